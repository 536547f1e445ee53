package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/agent/nodelock"
)

// lockPoll is how often a held node lock is tried again while waiting.
const lockPoll = 250 * time.Millisecond

// observeNAT reads the node's nat table for the refusal checks.
type observeNAT func(metadata netip.AddrPort) (netrules.NAT, error)

// observeNodeNAT reads the node's own iptables through binary.
func observeNodeNAT(binary string) observeNAT {
	return func(metadata netip.AddrPort) (netrules.NAT, error) {
		a, err := netrules.NewApplier(binary)
		if err != nil {
			return netrules.NAT{}, err
		}
		return a.ObserveNAT(metadata)
	}
}

// claimNode makes sure no other agent owns the node's metadata redirect
// before this one installs its rules: it takes the node lock (waiting up
// to --lock-wait for an agent that is still shutting down, as in a
// rolling update), then reads the nat table, and refuses (refusal) if
// another agent holds the lock or another redirect is in place. On
// success the caller holds the lock until it calls release.
func claimNode(ctx context.Context, opts *Options, log *slog.Logger, observe observeNAT) (release func(), err error) {
	in, err := ruleInput(opts)
	if err != nil {
		return nil, err
	}
	claim := claimInput{Metadata: in.Metadata, Wait: opts.LockWait}
	release = func() {}
	if opts.LockFile != "" {
		lock, held, err := waitForLock(ctx, opts.LockFile, nodelock.Self(in.Agent.String(), opts.Pod, opts.PodUID), opts.LockWait, log)
		if err != nil {
			return nil, err
		}
		claim.Held = held
		if lock != nil {
			release = func() {
				if err := lock.Release(); err != nil {
					log.Error("releasing the node lock failed", "error", err)
				}
			}
		}
	}
	// A held lock is reason enough to refuse, even when the table cannot
	// be read.
	nat, observeErr := observe(in.Metadata)
	claim.NAT = nat
	if err := refusal(claim); err != nil {
		release()
		return nil, err
	}
	if observeErr != nil {
		release()
		return nil, fmt.Errorf("read the node's nat table: %w", observeErr)
	}
	return release, nil
}

// waitForLock takes the node lock, trying again until wait has passed
// while another agent holds it. It returns the lock, or who held it all
// along.
func waitForLock(ctx context.Context, path string, me nodelock.Holder, wait time.Duration, log *slog.Logger) (*nodelock.Lock, *nodelock.HeldError, error) {
	deadline := time.After(wait)
	for logged := false; ; logged = true {
		lock, err := nodelock.TryLock(path, me)
		var held *nodelock.HeldError
		if !errors.As(err, &held) {
			return lock, nil, err
		}
		if !logged {
			log.Info("waiting for the agent holding the node lock to stop", "lock", path, "holder", held.Holder.String(), "wait", wait)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-deadline:
			return nil, held, nil
		case <-time.After(lockPoll):
		}
	}
}

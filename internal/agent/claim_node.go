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

// How a waiting agent (WaitForOtherAgents) watches the other agent's
// redirect: it reads the nat table every foreignPoll, and repeats why it
// does not serve every foreignRelog, so that the last lines of its log
// always say it.
const (
	foreignPoll  = time.Second
	foreignRelog = time.Minute
)

// whileRefused is what claimNode does while another agent's redirect keeps
// this one waiting: guard installs the guard chains (once), notReady
// reports the refusal on /readyz (each time it is read again).
type whileRefused struct {
	guard    func() error
	notReady func(error)
}

// claimNode makes sure no other agent owns the node's metadata redirect
// before this one installs its rules: it takes the node lock (waiting up
// to --lock-wait for an agent that is still shutting down, as in a
// rolling update), then reads the nat table, and refuses (refusal) if
// another agent holds the lock or another redirect is in place.
//
// Another redirect (aad-pod-identity's NMI, during a switch to podid) does
// not end the agent when opts.WaitForOtherAgents is set: it installs the
// guard, reports the refusal as not ready, and claims the node as soon as
// the redirect is gone, so pods are refused for at most foreignPoll
// between the other agent's exit and this one's redirect, and never reach
// the node's IMDS. A held lock (a second podid installation) always
// refuses. On success the caller holds the lock until it calls release.
func claimNode(ctx context.Context, opts *Options, log *slog.Logger, observe observeNAT, wait whileRefused) (release func(), err error) {
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
	var since, logged time.Time
	for {
		// A held lock is reason enough to refuse, even when the table
		// cannot be read.
		nat, observeErr := observe(in.Metadata)
		claim.NAT = nat
		refused := refusal(claim)
		if refused == nil && observeErr != nil {
			release()
			return nil, fmt.Errorf("read the node's nat table: %w", observeErr)
		}
		if refused == nil {
			if !since.IsZero() {
				log.Info("the other agent's metadata redirect is gone: this agent takes over the node", "waited", time.Since(since).Round(time.Millisecond))
			}
			return release, nil
		}
		if claim.Held != nil || !opts.WaitForOtherAgents {
			release()
			return nil, refused
		}
		if since.IsZero() {
			since = time.Now()
			if err := wait.guard(); err != nil {
				release()
				return nil, errors.Join(refused, fmt.Errorf("install the guard while waiting for the other agent to go: %w", err))
			}
		}
		wait.notReady(refused)
		if time.Since(logged) >= foreignRelog {
			logged = time.Now()
			log.Error("not serving: another agent owns the node's metadata redirect; waiting for it to go, with pods' unredirected metadata traffic refused (chain "+netrules.ForwardGuard+")",
				"error", refused, "waiting", time.Since(since).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		case <-time.After(foreignPoll):
		}
	}
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

package agent

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
)

// aadFor returns a nat table that shows aad-pod-identity's redirect for
// the first n reads, and a clean one after: its NMI stopping mid-wait.
func aadFor(n int64) (observeNAT, *atomic.Int64) {
	var reads atomic.Int64
	return func(netip.AddrPort) (netrules.NAT, error) {
		if reads.Add(1) <= n {
			return netrules.NAT{Prerouting: []string{aadJump}, AAD: aadChain}, nil
		}
		return netrules.NAT{}, nil
	}, &reads
}

// An agent beside aad-pod-identity's NMI waits with its guard in place and
// not ready, and claims the node as soon as the other redirect is gone;
// told not to wait, it refuses at once and touches nothing.
func TestClaimWaitsForAnotherAgentsRedirect(t *testing.T) {
	opts := claimOptions("", ":2579", 0)
	log := slog.New(slog.DiscardHandler)

	observe, reads := aadFor(2)
	var guards atomic.Int64
	var lastNotReady atomic.Value
	release, err := claimNode(context.Background(), opts, log, observe, whileRefused{
		guard:    func() error { guards.Add(1); return nil },
		notReady: func(err error) { lastNotReady.Store(err.Error()) },
	})
	if err != nil {
		t.Fatalf("the waiting agent should claim the node once the redirect is gone: %v", err)
	}
	release()
	if g := guards.Load(); g != 1 {
		t.Errorf("guard installed %d times while waiting; want once", g)
	}
	if r := reads.Load(); r != 3 {
		t.Errorf("nat table read %d times; want 3 (twice with aad-pod-identity, once without)", r)
	}
	if msg, _ := lastNotReady.Load().(string); !strings.Contains(msg, "aad-pod-identity's NMI owns the metadata redirect") {
		t.Errorf("/readyz while waiting would say %q; want the refusal", msg)
	}

	opts.WaitForOtherAgents = false
	observe, _ = aadFor(1)
	guards.Store(0)
	_, err = claimNode(context.Background(), opts, log, observe, whileRefused{
		guard:    func() error { guards.Add(1); return nil },
		notReady: func(error) {},
	})
	if err == nil || !strings.Contains(err.Error(), "aad-pod-identity's NMI") {
		t.Fatalf("--wait-for-other-agents=false: want the refusal at once, got %v", err)
	}
	if guards.Load() != 0 {
		t.Error("an agent that does not wait installed the guard")
	}
}

// A guard that cannot be installed ends the wait with both reasons, and a
// stop (SIGTERM) while waiting ends it with the context's error.
func TestClaimWaitEnds(t *testing.T) {
	opts := claimOptions("", ":2579", 0)
	log := slog.New(slog.DiscardHandler)
	observe, _ := aadFor(1 << 30)
	_, err := claimNode(context.Background(), opts, log, observe, whileRefused{
		guard:    func() error { return errors.New("iptables: Permission denied") },
		notReady: func(error) {},
	})
	if err == nil || !strings.Contains(err.Error(), "aad-pod-identity's NMI") || !strings.Contains(err.Error(), "install the guard while waiting") {
		t.Errorf("want the refusal and the guard's failure, got %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = claimNode(ctx, opts, log, observe, whileRefused{guard: func() error { return nil }, notReady: func(error) {}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stopped while waiting: want the context's error, got %v", err)
	}
}

package agent

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/agent/podif"
)

// Timing of the rule sync on pod changes.
const (
	// podChangeDelay gathers a burst of pod events (a pod's start updates
	// it several times) into one discovery.
	podChangeDelay = 200 * time.Millisecond
	// waitingRetry is how soon the interfaces are read again while a pod
	// with an address has none found: its traffic meets the guard until
	// then.
	waitingRetry = 2 * time.Second
)

// ruleSource plans the node's rules: per pod, tied to each pod's host-side
// interface, or the pod CIDRs when the CNI gives no per-pod interface
// (podif.Decide says which, and why; the choice is logged when it
// changes).
type ruleSource struct {
	// base is the plan's input without pods: addresses and pod CIDRs.
	base netrules.Input
	// pods lists the node's live pods; discover reads the node's links
	// and the pods' namespaces. Both nil: the pod CIDRs, always
	// (--pod-interfaces=false).
	pods     func() []podif.Pod
	discover func() (podif.Found, error)
	log      *slog.Logger

	seen    bool           // per-pod rules were planned before
	reason  podif.Reason   // the last decision's, to log changes once
	waiting []string       // the last decision's pods without interface
	last    *netrules.Plan // the last plan made, kept when discovery fails
}

// plan returns the rules for now, and whether a pod waits for its
// interface to be found (then plan again soon).
func (s *ruleSource) plan() (netrules.Plan, bool, error) {
	if s.discover == nil {
		p, err := netrules.MakePlan(s.base)
		return p, false, err
	}
	found, err := s.discover()
	d := podif.Decide(podif.Input{Pods: s.pods(), Interfaces: found.Interfaces(), DiscoveryErr: err, Physdev: found.Physdev, Seen: s.seen})
	if d.Reason != s.reason {
		s.reason = d.Reason
		s.log.Info("metadata redirect chosen", "reason", d.Reason, "message", d.Message, "perPod", d.PerPod, "pods", len(d.Pods))
	}
	if !slices.Equal(d.Waiting, s.waiting) {
		s.waiting = d.Waiting
		if d.PerPod && len(d.Waiting) > 0 {
			s.log.Debug("pods refused until their host-side interface is found", "pods", d.Waiting)
		}
	}
	if d.Keep && s.last != nil {
		return *s.last, true, nil
	}
	in := s.base
	in.Pods, in.PerPod = d.Pods, d.PerPod
	p, err := netrules.MakePlan(in)
	if err != nil {
		return netrules.Plan{}, false, err
	}
	s.seen = s.seen || d.PerPod
	s.last = &p
	return p, d.Keep || (d.PerPod && len(d.Waiting) > 0), nil
}

// ruleLoop keeps the node's rules in sync: at start, after pod changes
// (when the plan changed), soon again while a pod waits for its interface,
// and every interval, when drift is repaired whatever the plan.
type ruleLoop struct {
	src      *ruleSource
	apply    func(netrules.Plan) ([]string, error)
	changed  <-chan struct{} // nil: no pod watch
	interval time.Duration
	log      *slog.Logger
	// ok reports whether the last sync succeeded, for readiness.
	ok func(bool)

	applied string // the last plan applied without error, as text
}

// sync plans and, when force is set or the plan differs from the one last
// applied, applies. It returns whether to plan again soon.
func (l *ruleLoop) sync(force bool) bool {
	plan, soon, err := l.src.plan()
	if err != nil {
		l.ok(false)
		l.log.Error("planning iptables rules failed", "error", err)
		return false // the next repair tries again
	}
	text := plan.String()
	if !force && text == l.applied {
		return soon
	}
	repaired, err := l.apply(plan)
	l.ok(err == nil)
	if err != nil {
		l.applied = ""
		l.log.Error("iptables sync failed", "error", err)
		return false // the next repair tries again
	}
	l.applied = text
	if len(repaired) > 0 {
		l.log.Info("iptables chains repaired", "chains", repaired)
	}
	return soon
}

// run syncs until ctx ends; the first sync has been made by the caller.
func (l *ruleLoop) run(ctx context.Context, soon bool) {
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	retry := time.NewTimer(waitingRetry)
	defer retry.Stop()
	if !soon {
		retry.Stop()
	}
	// The delay runs from the first change of a burst, not the last, so a
	// stream of pod updates cannot put the sync off forever.
	debounce := time.NewTimer(podChangeDelay)
	defer debounce.Stop()
	debounce.Stop()
	pending := false
	for {
		var again bool
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			again = l.sync(true)
		case <-l.changed:
			if !pending {
				pending = true
				debounce.Reset(podChangeDelay)
			}
			continue
		case <-debounce.C:
			pending = false
			again = l.sync(false)
		case <-retry.C:
			again = l.sync(false)
		}
		retry.Stop()
		if again {
			retry.Reset(waitingRetry)
		}
	}
}

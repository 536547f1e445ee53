package cloudassign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// State is what the cluster wants of one machine.
type State struct {
	// Wanted are identity IDs of assignments that should be on the machine.
	Wanted []string
	// Releasing are identity IDs of assignments being deleted.
	Releasing []string
}

// Report is the outcome of one burst, for the status writer.
type Report struct {
	// OnMachine holds (lower-cased) identity IDs known to be on the machine.
	OnMachine map[string]bool
	// Refused maps (lower-cased) identity IDs to why the cloud refused them.
	Refused map[string]Failure
	// Blocked, if set, kept the whole burst from completing; identities not
	// on the machine wait for it to be fixed.
	Blocked *Failure
	// MachineRead is set when the machine was read in this burst, so
	// OnMachine is what it holds; otherwise OnMachine is empty because
	// nothing is known.
	MachineRead bool
	// Released holds (lower-cased) identity IDs whose releasing assignments
	// may go: the identity is off the machine, other pods still need it,
	// or it is immutable (podid never removes it, so there is nothing to
	// wait for).
	Released map[string]bool
}

// WorkerOptions configure a worker for one machine.
type WorkerOptions struct {
	Target   Target
	Machines Machines
	// Source reads the cluster's wishes from the informer cache.
	Source func(ctx context.Context, t Target) (State, error)
	// Report writes statuses and events; errors cause a retry.
	Report func(ctx context.Context, t Target, r Report) error
	// Immutable identities are never removed.
	Immutable []string
	// Resync is how often the machine is read again to repair drift, such
	// as an identity removed by hand. Zero means DefaultResync.
	Resync time.Duration
	// Clock is injected for tests; nil means the real clock.
	Clock clock.Clock
	// Observe receives each ARM call's outcome, for metrics; may be nil.
	Observe func(op string, err error, d time.Duration)
	// Quiet is how long triggers must stop before a burst starts, so that
	// the assignments of a deployment's pods go out in one PATCH. Zero
	// means DefaultQuiet; a burst never waits longer than MaxDelay.
	Quiet, MaxDelay time.Duration
}

// Worker defaults.
const (
	DefaultResync   = 3 * time.Minute
	DefaultQuiet    = 300 * time.Millisecond
	DefaultMaxDelay = 2 * time.Second
	minBackoff      = time.Second
	maxBackoff      = 5 * time.Minute
	refusedBackoff  = 5 * time.Second
	maxRefusedRetry = 10 * time.Minute
)

// Worker serialises all identity changes of one machine. Trigger it on any
// change; bursts of triggers coalesce into one GET and one PATCH.
type Worker struct {
	o       WorkerOptions
	trigger chan struct{}
	// notBefore is when the last failed burst's Retry-After or back-off
	// ends; no burst starts before it.
	notBefore time.Time
	backoff   time.Duration
	refused   map[string]refusal
	// failures counts the bursts that failed in a row.
	failures int
	// outage is the failure that started the current run of unavailable
	// bursts, nil when the last burst was not blocked by an unavailable
	// cloud (see steady).
	outage *outage
}

type outage struct {
	failure     Failure
	machineRead bool
}

type refusal struct {
	until   time.Time
	wait    time.Duration
	failure Failure
}

// NewWorker returns a stopped worker; call Run.
func NewWorker(o WorkerOptions) *Worker {
	if o.Resync == 0 {
		o.Resync = DefaultResync
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Quiet == 0 {
		o.Quiet = DefaultQuiet
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	return &Worker{o: o, trigger: make(chan struct{}, 1), refused: map[string]refusal{}}
}

// Trigger asks for a burst soon. It never blocks.
func (w *Worker) Trigger() {
	select {
	case w.trigger <- struct{}{}:
	default:
	}
}

// Run processes bursts until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	timer := w.o.Clock.NewTimer(w.o.Resync)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.trigger:
			w.settle(ctx)
		case <-timer.C():
		}
		// Retry-After is a promise not to call before it ends, whatever
		// triggers arrive meanwhile; so is the back-off after a failure:
		// pods come and go during an outage, and calling at each change
		// would turn a deployment's rollout into a storm on a failing ARM.
		if wait := w.notBefore.Sub(w.o.Clock.Now()); wait > 0 {
			resetTimer(timer, wait)
			continue
		}
		next := w.burst(ctx)
		resetTimer(timer, next)
	}
}

// settle absorbs further triggers until they stop for Quiet, or MaxDelay
// has passed since the first.
func (w *Worker) settle(ctx context.Context) {
	deadline := w.o.Clock.After(w.o.MaxDelay)
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-w.trigger:
		case <-w.o.Clock.After(w.o.Quiet):
			return
		}
	}
}

func resetTimer(t clock.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C():
		default:
		}
	}
	t.Reset(d)
}

// burst reads the machine, applies the plan and reports; it returns how long
// to wait before the next unprompted burst. A failed burst is logged once,
// here, with the machine and the cause, however many calls it made.
func (w *Worker) burst(ctx context.Context) time.Duration {
	next, err := w.try(ctx)
	logger := log.FromContext(ctx).WithName("cloudassign").WithValues(strings.ToLower(kindOf(w.o.Target)), w.o.Target.ID)
	if err != nil {
		w.failures++
		w.notBefore = w.o.Clock.Now().Add(next)
		logger.Error(err, "cloud identity update failed; retrying", "retry", next.String(), "failures", w.failures)
		return next
	}
	if w.failures > 0 {
		logger.Info("cloud identity update succeeded after failures", "failures", w.failures)
	}
	w.failures = 0
	return next
}

// try is one burst; err is why it failed.
func (w *Worker) try(ctx context.Context) (time.Duration, error) {
	state, err := w.o.Source(ctx, w.o.Target)
	if err != nil {
		return w.fail(), fmt.Errorf("read assignments: %w", err)
	}
	var system bool
	current, err := w.call(ctx, "get", func(ctx context.Context) ([]string, error) {
		mi, err := w.o.Machines.Identities(ctx, w.o.Target)
		system = mi.SystemAssigned
		return mi.UserAssigned, err
	})
	if err != nil {
		return w.blocked(ctx, state, nil, err)
	}
	on := set(current)
	w.forgetRefusals(state)
	plan := MakePlan(PlanInput{Current: current, Wanted: state.Wanted, Releasing: state.Releasing, Immutable: w.o.Immutable, Refused: w.refusedIDs()})
	for _, req := range plan.Requests {
		req.SystemAssigned = system
		applied, err := w.apply(ctx, req, on)
		for _, id := range applied.Add {
			on[strings.ToLower(id)] = id
			delete(w.refused, strings.ToLower(id))
		}
		for _, id := range applied.Remove {
			delete(on, strings.ToLower(id))
		}
		if err != nil {
			return w.blocked(ctx, state, on, err)
		}
	}
	w.outage = nil
	if err := w.report(ctx, state, on, nil); err != nil {
		return w.fail(), fmt.Errorf("report: %w", err)
	}
	w.backoff = 0
	return w.nextResync(), nil
}

// apply sends one request, dropping refused identities and retrying the
// rest at once, so one bad identity never blocks the others. on holds the
// user-assigned identities on the machine before the request, keyed in
// lower case.
func (w *Worker) apply(ctx context.Context, req Change, on map[string]string) (Change, error) {
	for len(req.Add)+len(req.Remove) > 0 {
		req.UserAssignedAfter = countAfter(on, req)
		_, err := w.call(ctx, "update", func(ctx context.Context) ([]string, error) {
			return nil, w.o.Machines.Update(ctx, w.o.Target, req)
		})
		if err == nil {
			return req, nil
		}
		f, ok := w.classify(err)
		if !ok || f.Kind != KindIdentityRefused || len(f.Identities) == 0 {
			return Change{}, err
		}
		dropped := set(f.Identities)
		before := len(req.Add) + len(req.Remove)
		req.Add, req.Remove = without(req.Add, dropped), without(req.Remove, dropped)
		for k := range dropped {
			w.refuse(k, f)
		}
		if len(req.Add)+len(req.Remove) == before {
			return Change{}, err // the error named identities we did not send
		}
	}
	return req, nil
}

func (w *Worker) call(ctx context.Context, op string, fn func(context.Context) ([]string, error)) ([]string, error) {
	start := w.o.Clock.Now()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := fn(ctx)
	if w.o.Observe != nil {
		w.o.Observe(op, err, w.o.Clock.Since(start))
	}
	return out, err
}

// blocked handles an error that stopped the burst: every assignment not on
// the machine is told why, whatever the kind of failure, and the next burst
// waits for Retry-After or the back-off. on is nil when the machine could
// not be read. It returns err, with the status writer's own error if any.
func (w *Worker) blocked(ctx context.Context, state State, on map[string]string, err error) (time.Duration, error) {
	f, ok := w.classify(err)
	if !ok {
		f = Unreachable(w.o.Target, err)
	}
	if f.Kind == KindMachineGone {
		// A machine that does not exist holds no identity: whatever its
		// deleted assignments were waiting for is done.
		on = map[string]string{}
	}
	f = w.steady(f, on != nil)
	if rerr := w.report(ctx, state, on, &f); rerr != nil {
		err = errors.Join(err, fmt.Errorf("report: %w", rerr))
	}
	if f.Kind == KindThrottled {
		return f.RetryAfter, err
	}
	return w.fail(), err
}

// steady returns f, or, while the cloud stays unavailable in the same way
// (the same kind of failure, at the same step: reading the machine or
// writing it), the failure that started the outage with f's Retry-After.
// Statuses and Warning events carry the failure's text: ARM answering 500
// and 503 in turn, or transport errors naming a new stream or port each
// time, would otherwise rewrite every assignment of the machine and warn
// every pod again on every retry. A refusal, or the cloud failing at
// another step, is news and is reported as it is.
func (w *Worker) steady(f Failure, machineRead bool) Failure {
	prev := w.outage
	switch {
	case !f.Unavailable():
		w.outage = nil
		return f
	case prev == nil || prev.failure.Kind != f.Kind || prev.machineRead != machineRead:
		w.outage = &outage{failure: f, machineRead: machineRead}
		return f
	}
	kept := prev.failure
	kept.RetryAfter = f.RetryAfter
	return kept
}

func (w *Worker) classify(err error) (Failure, bool) {
	var ce *CallError
	if !errors.As(err, &ce) {
		return Failure{}, false
	}
	return Classify(w.o.Target, ce.Status, ce.Code, ce.Message, ce.RetryAfter), true
}

func (w *Worker) report(ctx context.Context, state State, on map[string]string, blocked *Failure) error {
	r := Report{OnMachine: map[string]bool{}, Refused: map[string]Failure{}, Blocked: blocked, Released: map[string]bool{}, MachineRead: on != nil}
	for k := range on {
		r.OnMachine[k] = true
	}
	for k, ref := range w.refused {
		if !r.OnMachine[k] {
			r.Refused[k] = ref.failure
		}
	}
	wanted, immutable := set(state.Wanted), set(w.o.Immutable)
	for k := range set(state.Releasing) {
		_, needed := wanted[k]
		_, fixed := immutable[k]
		// An immutable identity stays on the machine for good: waiting for
		// it to leave would hold the assignment, and a pod recreated under
		// the same name, for ever.
		if on != nil && (!r.OnMachine[k] || needed || fixed) {
			r.Released[k] = true
		}
	}
	return w.o.Report(ctx, w.o.Target, r)
}

// refuse leaves an identity out for a while, doubling each time, but never
// longer than the resync period, so a role granted to fix it takes effect
// within one resync.
func (w *Worker) refuse(id string, f Failure) {
	r := w.refused[id]
	r.wait = min(max(2*r.wait, refusedBackoff), maxRefusedRetry, w.o.Resync)
	r.until = w.o.Clock.Now().Add(r.wait)
	r.failure = f
	w.refused[id] = r
}

func (w *Worker) refusedIDs() []string {
	now := w.o.Clock.Now()
	var out []string
	for id, r := range w.refused {
		if now.Before(r.until) {
			out = append(out, id)
		}
	}
	return out
}

// forgetRefusals drops refusals of identities no pod wants any more.
func (w *Worker) forgetRefusals(s State) {
	wanted := set(s.Wanted)
	for id := range w.refused {
		if _, ok := wanted[id]; !ok {
			delete(w.refused, id)
		}
	}
}

// nextResync is the resync period, or sooner when a refused identity's
// back-off ends.
func (w *Worker) nextResync() time.Duration {
	next := w.o.Resync
	now := w.o.Clock.Now()
	for _, r := range w.refused {
		if d := r.until.Sub(now); d > 0 && d < next {
			next = d
		}
	}
	return next
}

// fail doubles the back-off, never past the resync period: a role granted
// to fix a refusal is noticed within one resync at the latest.
func (w *Worker) fail() time.Duration {
	w.backoff = min(max(2*w.backoff, minBackoff), maxBackoff, w.o.Resync)
	return w.backoff
}

func without(ids []string, drop map[string]string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := drop[strings.ToLower(id)]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// countAfter is how many user-assigned identities the machine holds once
// the change is applied.
func countAfter(on map[string]string, c Change) int {
	after := make(map[string]bool, len(on)+len(c.Add))
	for k := range on {
		after[k] = true
	}
	for _, id := range c.Add {
		after[strings.ToLower(id)] = true
	}
	for _, id := range c.Remove {
		delete(after, strings.ToLower(id))
	}
	return len(after)
}

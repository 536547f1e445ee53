package cloudassign

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// TestTriggersWaitForTheBackoff fails a GET, then triggers the worker
// every 50 ms, as pods coming and going during an outage do: no call may
// come before the back-off (1 s) ends. Real clock: the worker's settle and
// timers run as in mic.
func TestTriggersWaitForTheBackoff(t *testing.T) {
	target, _ := ParseProviderID("azure://" + vmssID + "/virtualMachines/1")
	m := &flakyMachines{getErr: &CallError{Op: "get VMSS", Status: 503, Code: "ServiceUnavailable"}}
	calls := make(chan time.Time, 10)
	w := NewWorker(WorkerOptions{
		Target: target, Machines: callStamp{m, calls}, Resync: time.Hour, Quiet: 5 * time.Millisecond, MaxDelay: 10 * time.Millisecond,
		Source: func(context.Context, Target) (State, error) { return State{Wanted: []string{idA}}, nil },
		Report: func(context.Context, Target, Report) error { return nil },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)

	w.Trigger()
	first := <-calls
	for time.Since(first) < 800*time.Millisecond {
		w.Trigger()
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case second := <-calls:
		if gap := second.Sub(first); gap < minBackoff {
			t.Fatalf("a trigger made the worker call %s after a 503, within its back-off of %s", gap, minBackoff)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no call after the back-off")
	}
}

// callStamp sends the time of each GET to calls.
type callStamp struct {
	*flakyMachines
	calls chan<- time.Time
}

func (c callStamp) Identities(ctx context.Context, t Target) (MachineIdentity, error) {
	c.calls <- time.Now()
	return c.flakyMachines.Identities(ctx, t)
}

// TestAnOutageKeepsItsFirstText runs bursts against a cloud that stays
// unavailable but says so differently each time, and checks what the
// status writer is told: the first failure's text, so that statuses are
// not rewritten and pods not warned again on every retry, until the
// failure is news (another kind, another step, or the cloud came back).
func TestAnOutageKeepsItsFirstText(t *testing.T) {
	target, _ := ParseProviderID("azure://" + vmssID + "/virtualMachines/1")
	m := &flakyMachines{}
	var got Report
	w := NewWorker(WorkerOptions{
		Target: target, Machines: m, Clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		Source: func(context.Context, Target) (State, error) { return State{Wanted: []string{idA}}, nil },
		Report: func(_ context.Context, _ Target, r Report) error { got = r; return nil },
	})
	server := func(status int, code string) error {
		return &CallError{Op: "get VMSS", Status: status, Code: code, Message: "Injected fault."}
	}
	throttled := func(after string) error {
		return &CallError{Op: "get VMSS", Status: 429, Code: "TooManyRequests", RetryAfter: after}
	}
	steps := []struct {
		name             string
		getErr, patchErr error
		// same: the report carries the previous step's failure text.
		same bool
		// retryAfter, when set, is the wait the report must carry.
		retryAfter time.Duration
	}{
		{name: "GET answers 503", getErr: server(503, "ServiceUnavailable")},
		{name: "then 500: still the 503's text", getErr: server(500, "InternalServerError"), same: true},
		{name: "the GET passes, the PATCH answers 500: another step", patchErr: &CallError{Op: "update VMSS", Status: 500, Code: "InternalServerError"}},
		{name: "no answer: another kind of failure", getErr: errors.New(`Get "https://arm/x": stream error: stream ID 3; INTERNAL_ERROR`)},
		{name: "no answer on another stream: the same", getErr: errors.New(`Get "https://arm/x": stream error: stream ID 5; INTERNAL_ERROR`), same: true},
		{name: "429 for 5 s", getErr: throttled("5"), retryAfter: 5 * time.Second},
		{name: "429 for 7 s: the first text, the new wait", getErr: throttled("7"), same: true, retryAfter: 7 * time.Second},
		{name: "the cloud is back", same: false},
		{name: "GET answers 503 again: news", getErr: server(503, "ServiceUnavailable")},
	}
	prev := ""
	for _, s := range steps {
		m.getErr, m.patchErr, m.ids = s.getErr, s.patchErr, nil
		w.burst(context.Background())
		text := ""
		if got.Blocked != nil {
			text = got.Blocked.Message
			if s.retryAfter != 0 && got.Blocked.RetryAfter != s.retryAfter {
				t.Errorf("%s: waits %s, want %s", s.name, got.Blocked.RetryAfter, s.retryAfter)
			}
		}
		if (text == prev) != s.same {
			t.Errorf("%s: reported %q after %q; same text wanted: %v", s.name, text, prev, s.same)
		}
		prev = text
	}
}

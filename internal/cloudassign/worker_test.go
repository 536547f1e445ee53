package cloudassign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// flakyMachines answers GET and PATCH with the errors set, or succeeds.
type flakyMachines struct {
	mu           sync.Mutex
	getErr       error
	patchErr     error
	gets, patchs int
	ids          []string
}

func (m *flakyMachines) Identities(context.Context, Target) (MachineIdentity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if m.getErr != nil {
		return MachineIdentity{}, m.getErr
	}
	return MachineIdentity{UserAssigned: m.ids}, nil
}

func (m *flakyMachines) Update(_ context.Context, _ Target, c Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.patchs++
	if m.patchErr != nil {
		return m.patchErr
	}
	m.ids = append(m.ids, c.Add...)
	return nil
}

// TestAFailedBurstIsLoggedOnceAndReported runs bursts against a cloud that
// fails in several ways and checks, for each burst, the one log line (or
// none) and what the status writer is told.
func TestAFailedBurstIsLoggedOnceAndReported(t *testing.T) {
	target, _ := ParseProviderID("azure://" + vmssID + "/virtualMachines/1")
	var lines []string
	ctx := log.IntoContext(context.Background(), funcr.New(func(prefix, args string) {
		lines = append(lines, prefix+" "+args)
	}, funcr.Options{}))
	m := &flakyMachines{}
	var reports []Report
	w := NewWorker(WorkerOptions{
		Target: target, Machines: m, Clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		Source: func(context.Context, Target) (State, error) { return State{Wanted: []string{idA}}, nil },
		Report: func(_ context.Context, _ Target, r Report) error { reports = append(reports, r); return nil },
	})
	server := &CallError{Op: "get VMSS", Status: 503, Code: "InternalServerError", Message: "Injected fault."}
	cases := []struct {
		name     string
		getErr   error
		patchErr error
		// log is a text the one line of the burst contains; "" means no
		// error line.
		log string
		// blocked is the Kind the status writer is told of, -1 for none.
		blocked     Kind
		machineRead bool
	}{
		{"GET answers 503: the machine is unknown", server, nil, "503 InternalServerError", KindServer, false},
		{"again: one more line, not one per call", server, nil, "\"failures\"=2", KindServer, false},
		{"GET gets no answer", errors.New("dial tcp: connection refused"), nil, "connection refused", KindUnreachable, false},
		{"PATCH answers 500: the machine was read", nil, &CallError{Op: "update VMSS", Status: 500, Code: "InternalServerError"}, "500 InternalServerError", KindServer, true},
		{"the cloud is back", nil, nil, "", -1, true},
	}
	for _, tc := range cases {
		m.getErr, m.patchErr, lines, reports = tc.getErr, tc.patchErr, nil, nil
		gets, patchs := m.gets, m.patchs
		w.burst(ctx)
		var errorLines []string
		for _, l := range lines {
			if strings.Contains(l, `"error"=`) {
				errorLines = append(errorLines, l)
			}
		}
		switch {
		case tc.log == "" && len(errorLines) != 0:
			t.Errorf("%s: logged %q, want no failure", tc.name, errorLines)
		case tc.log != "" && (len(errorLines) != 1 || !strings.Contains(errorLines[0], tc.log) || !strings.Contains(errorLines[0], vmssID)):
			t.Errorf("%s: logged %q, want one line naming %s and %q", tc.name, lines, vmssID, tc.log)
		}
		if len(reports) != 1 {
			t.Fatalf("%s: %d reports, want 1", tc.name, len(reports))
		}
		r := reports[0]
		if got := kindOrNone(r.Blocked); got != tc.blocked || r.MachineRead != tc.machineRead {
			t.Errorf("%s: report blocked by %v, machine read %v; want %v, %v", tc.name, got, r.MachineRead, tc.blocked, tc.machineRead)
		}
		if tc.blocked >= 0 && !r.Blocked.Unavailable() {
			t.Errorf("%s: %+v is not Unavailable", tc.name, r.Blocked)
		}
		t.Logf("%s: %d GET, %d PATCH; %s", tc.name, m.gets-gets, m.patchs-patchs, fmt.Sprint(lines))
	}
	if !strings.Contains(strings.Join(lines, "\n"), "succeeded after failures") {
		t.Errorf("recovery not logged: %q", lines)
	}
}

func kindOrNone(f *Failure) Kind {
	if f == nil {
		return -1
	}
	return f.Kind
}

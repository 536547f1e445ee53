package cloudassign

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// machineSet is a machine that applies what it is sent.
type machineSet struct{ ids []string }

func (m *machineSet) Identities(context.Context, Target) (MachineIdentity, error) {
	return MachineIdentity{UserAssigned: slices.Clone(m.ids)}, nil
}

func (m *machineSet) Update(_ context.Context, _ Target, c Change) error {
	m.ids = slices.DeleteFunc(m.ids, func(id string) bool {
		return slices.ContainsFunc(c.Remove, func(r string) bool { return strings.EqualFold(r, id) })
	})
	m.ids = append(m.ids, c.Add...)
	return nil
}

// TestReleasingAssignmentsGoOnlyOnceTheMachineIsDone runs one burst per
// case and checks which deleted assignments may lose their finalizer and
// what the machine holds after: an identity leaves the machine only when
// no other assignment of the machine needs it and it is not immutable, and
// an assignment is let go only when nothing is left to do for it.
func TestReleasingAssignmentsGoOnlyOnceTheMachineIsDone(t *testing.T) {
	target, _ := ParseProviderID("azure://" + vmssID + "/virtualMachines/1")
	cases := map[string]struct {
		current   []string
		state     State
		immutable []string
		// released are the identities whose releasing assignments may go.
		released []string
		// after is what the machine holds after the burst.
		after []string
	}{
		"the last pod's identity leaves the machine, then its assignment goes": {
			current: []string{idA, kubelet}, state: State{Releasing: []string{idA}},
			released: []string{idA}, after: []string{kubelet}},
		"an identity another pod of the machine needs stays, and the assignment goes": {
			current: []string{idA, kubelet}, state: State{Wanted: []string{idA}, Releasing: []string{idA}},
			released: []string{idA}, after: []string{idA, kubelet}},
		"an assignment whose identity is already off the machine goes": {
			current: []string{kubelet}, state: State{Releasing: []string{idA}},
			released: []string{idA}, after: []string{kubelet}},
		"an immutable identity stays and its assignment goes": {
			current: []string{idA, kubelet}, state: State{Releasing: []string{kubelet}}, immutable: []string{kubelet},
			released: []string{kubelet}, after: []string{idA, kubelet}},
		"an immutable identity matches whatever its case": {
			current: []string{kubelet}, state: State{Releasing: []string{kubelet}}, immutable: []string{strings.ToUpper(kubelet)},
			released: []string{kubelet}, after: []string{kubelet}},
		"the moved pod's new machine is not this one: it releases only the old": {
			current: []string{idA, idB, kubelet}, state: State{Wanted: []string{idB}, Releasing: []string{idA}},
			released: []string{idA}, after: []string{idB, kubelet}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := &machineSet{ids: slices.Clone(tc.current)}
			var got Report
			w := NewWorker(WorkerOptions{
				Target: target, Machines: m, Immutable: tc.immutable,
				Clock:  clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
				Source: func(context.Context, Target) (State, error) { return tc.state, nil },
				Report: func(_ context.Context, _ Target, r Report) error { got = r; return nil },
			})
			w.burst(context.Background())
			var released []string
			for k := range got.Released {
				released = append(released, k)
			}
			slices.Sort(released)
			want := make([]string, 0, len(tc.released))
			for _, id := range tc.released {
				want = append(want, strings.ToLower(id))
			}
			slices.Sort(want)
			if !slices.Equal(released, want) {
				t.Errorf("released %v, want %v", released, want)
			}
			slices.Sort(m.ids)
			slices.Sort(tc.after)
			if !slices.Equal(m.ids, tc.after) {
				t.Errorf("machine holds %v, want %v", m.ids, tc.after)
			}
		})
	}
}

// goneMachine answers as ARM does for a VM or scale set that was deleted.
type goneMachine struct{}

func (goneMachine) Identities(context.Context, Target) (MachineIdentity, error) {
	return MachineIdentity{}, &CallError{Op: "get", Status: 404, Code: "ResourceNotFound",
		Message: "The Resource 'Microsoft.Compute/virtualMachineScaleSets/x' under resource group 'g' was not found."}
}

func (goneMachine) Update(context.Context, Target, Change) error {
	panic("a machine that does not exist is never updated")
}

// When the machine itself is gone, the assignments being deleted are let
// go (their identity went with the machine) and those still wanted are
// told why they wait; without that, a deleted VM's assignments kept their
// finalizer for ever, and their namespace could not be deleted.
func TestAGoneMachineReleasesItsAssignments(t *testing.T) {
	target, _ := ParseProviderID("azure://" + vmssID + "/virtualMachines/1")
	var got Report
	w := NewWorker(WorkerOptions{
		Target: target, Machines: goneMachine{},
		Clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		Source: func(context.Context, Target) (State, error) {
			return State{Releasing: []string{idA}, Wanted: []string{idB}}, nil
		},
		Report: func(_ context.Context, _ Target, r Report) error { got = r; return nil },
	})
	w.burst(context.Background())
	if !got.Released[strings.ToLower(idA)] || len(got.Released) != 1 {
		t.Errorf("released %v, want only %s", got.Released, idA)
	}
	if got.Blocked == nil || got.Blocked.Kind != KindMachineGone || !strings.Contains(got.Blocked.Message, "no longer exists") {
		t.Fatalf("blocked by %+v, want the machine named as gone", got.Blocked)
	}
	if got.OnMachine[strings.ToLower(idB)] {
		t.Error("the wanted identity is reported on a machine that does not exist")
	}
}

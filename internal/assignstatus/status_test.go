package assignstatus

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
)

// status builds a stored status with a Ready condition of reason r, set at t0.
func status(s string, r Reason, msg string) podidv1.AzureAssignedIdentityStatus {
	cs := metav1.ConditionFalse
	if s == podidv1.AssignedIDAssigned {
		cs = metav1.ConditionTrue
	}
	return podidv1.AzureAssignedIdentityStatus{Status: s, Conditions: []metav1.Condition{{
		Type: ConditionReady, Status: cs, Reason: string(r), Message: msg, LastTransitionTime: t0,
	}}}
}

func TestOwner(t *testing.T) {
	cases := map[string]struct {
		// have is the stored status.
		have podidv1.AzureAssignedIdentityStatus
		// needsCloud: the identity must go on the node's machine.
		needsCloud bool
		want       Writer
	}{
		"a new assignment without a cloud write is the assign controller's":          {podidv1.AzureAssignedIdentityStatus{}, false, AssignController},
		"a new assignment with a cloud write is the assign controller's, to start":   {podidv1.AzureAssignedIdentityStatus{}, true, AssignController},
		"without a cloud write the assign controller keeps it whatever it says":      {status(podidv1.AssignedIDAssigned, AssignedToMachine, ""), false, AssignController},
		"a Created assignment waiting for the cloud is the cloud worker's":           {status(podidv1.AssignedIDCreated, WaitingForCloudAssignment, ""), true, CloudWorker},
		"an assignment the cloud worker put on the machine stays the cloud worker's": {status(podidv1.AssignedIDAssigned, AssignedToMachine, ""), true, CloudWorker},
		"a refused assignment stays the cloud worker's":                              {status(podidv1.AssignedIDCreated, CloudRefused, ""), true, CloudWorker},
		"an unavailable cloud leaves it the cloud worker's":                          {status(podidv1.AssignedIDCreated, CloudUnavailable, ""), true, CloudWorker},
		"Assigned without a cloud write goes back to the assign controller when the identity moves to node mode": {
			status(podidv1.AssignedIDAssigned, Assigned, ""), true, AssignController},
		"a status without a Ready condition is the cloud worker's": {
			podidv1.AzureAssignedIdentityStatus{Status: podidv1.AssignedIDCreated}, true, CloudWorker},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Owner(tc.have, tc.needsCloud); got != tc.want {
				t.Fatalf("Owner = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestInitial(t *testing.T) {
	cases := map[string]struct {
		have       podidv1.AzureAssignedIdentityStatus
		needsCloud bool
		// want is "<status> <reason>"; since is the LastTransitionTime.
		want  string
		since metav1.Time
	}{
		"no cloud write: Assigned at once":               {podidv1.AzureAssignedIdentityStatus{}, false, "Assigned Assigned", t1},
		"a cloud write: Created, waiting for the worker": {podidv1.AzureAssignedIdentityStatus{}, true, "Created WaitingForCloudAssignment", t1},
		"a cloud worker's status is left alone":          {status(podidv1.AssignedIDCreated, CloudRefused, "AuthorizationFailed: x"), true, "Created CloudRefused", t0},
		"Assigned again keeps its transition time":       {status(podidv1.AssignedIDAssigned, Assigned, ""), false, "Assigned Assigned", t0},
		"moving to node mode flips to Created":           {status(podidv1.AssignedIDAssigned, Assigned, ""), true, "Created WaitingForCloudAssignment", t1},
		"moving off node mode flips to Assigned":         {status(podidv1.AssignedIDAssigned, AssignedToMachine, ""), false, "Assigned Assigned", t0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Initial(tc.have, tc.needsCloud, t1)
			c := meta.FindStatusCondition(got.Conditions, ConditionReady)
			if c == nil || got.Status+" "+c.Reason != tc.want || !c.LastTransitionTime.Equal(&tc.since) {
				t.Fatalf("got %+v, want %s since %s", got, tc.want, tc.since)
			}
			if c.ObservedGeneration != 0 {
				t.Errorf("observedGeneration %d; without a status subresource it must stay unset", c.ObservedGeneration)
			}
		})
	}
}

func TestCloudOutcomes(t *testing.T) {
	waiting := status(podidv1.AssignedIDCreated, WaitingForCloudAssignment, "")
	onMachine := status(podidv1.AssignedIDAssigned, AssignedToMachine, "The identity is on VMSS a; the pod gets tokens through the node's IMDS.")
	linked := CloudFailure{Code: "LinkedAuthorizationFailed", Message: "LinkedAuthorizationFailed: lacks assign/action."}
	server := CloudFailure{Code: "InternalServerError", Unavailable: true, Message: "Azure answered 500 for a; podid retries with back-off."}
	cases := map[string]struct {
		got     func() (podidv1.AzureAssignedIdentityStatus, bool)
		want    string // "<status> <reason>: <message>"
		changed bool
		event   string
	}{
		"the identity reached the machine": {
			got:  func() (podidv1.AzureAssignedIdentityStatus, bool) { return OnMachine(waiting, "VMSS a", t1) },
			want: "Assigned AssignedToMachine: The identity is on VMSS a; the pod gets tokens through the node's IMDS.", changed: true,
		},
		"still on the machine: nothing changes": {
			got:  func() (podidv1.AzureAssignedIdentityStatus, bool) { return OnMachine(onMachine, "VMSS a", t1) },
			want: "Assigned AssignedToMachine: The identity is on VMSS a; the pod gets tokens through the node's IMDS.",
		},
		"a refusal keeps the ARM code in the message, not the reason": {
			got:  func() (podidv1.AzureAssignedIdentityStatus, bool) { return Failed(waiting, linked, t1) },
			want: "Created CloudRefused: LinkedAuthorizationFailed: lacks assign/action.", changed: true, event: "LinkedAuthorizationFailed",
		},
		"a 5xx is unavailable and its code starts the message": {
			got:  func() (podidv1.AzureAssignedIdentityStatus, bool) { return Failed(waiting, server, t1) },
			want: "Created CloudUnavailable: InternalServerError: Azure answered 500 for a; podid retries with back-off.", changed: true, event: "InternalServerError",
		},
		"a transport error has no code": {
			got: func() (podidv1.AzureAssignedIdentityStatus, bool) {
				return Failed(waiting, CloudFailure{Unavailable: true, Message: "Could not reach Azure."}, t1)
			},
			want: "Created CloudUnavailable: Could not reach Azure.", changed: true, event: "CloudUnavailable",
		},
		"an unreadable machine does not take away an Assigned identity": {
			got: func() (podidv1.AzureAssignedIdentityStatus, bool) {
				f := server
				f.MachineUnknown = true
				return Failed(onMachine, f, t1)
			},
			want: "Assigned AssignedToMachine: The identity is on VMSS a; the pod gets tokens through the node's IMDS.",
		},
		"a refusal of an unreadable machine does": {
			got: func() (podidv1.AzureAssignedIdentityStatus, bool) {
				return Failed(onMachine, CloudFailure{Code: "AuthorizationFailed", Message: "may not read", MachineUnknown: true}, t1)
			},
			want: "Created CloudRefused: AuthorizationFailed: may not read", changed: true, event: "AuthorizationFailed",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, changed := tc.got()
			c := meta.FindStatusCondition(got.Conditions, ConditionReady)
			if c == nil || got.Status+" "+c.Reason+": "+c.Message != tc.want || changed != tc.changed {
				t.Fatalf("got %+v, changed %v; want %s, changed %v", got, changed, tc.want, tc.changed)
			}
			if !Known(c.Reason) {
				t.Errorf("reason %q is outside the closed set", c.Reason)
			}
			if code := CodeOf(got); tc.event != "" && tc.event != string(CloudUnavailable) && code != tc.event {
				t.Errorf("CodeOf = %q, want %q", code, tc.event)
			}
		})
	}
	for _, f := range []CloudFailure{linked, server, {Unavailable: true}} {
		if got, want := f.EventReason(), map[bool]string{true: f.Code, false: string(f.Reason())}[f.Code != ""]; got != want {
			t.Errorf("EventReason of %+v = %q, want %q", f, got, want)
		}
	}
}

func TestCodeOf(t *testing.T) {
	cases := map[string]struct {
		have podidv1.AzureAssignedIdentityStatus
		want string
	}{
		"a refusal":                         {status(podidv1.AssignedIDCreated, CloudRefused, "AuthorizationFailed: may not read"), "AuthorizationFailed"},
		"a message without a code":          {status(podidv1.AssignedIDCreated, CloudUnavailable, "Could not reach Azure: dial tcp: refused"), ""},
		"not a cloud failure":               {status(podidv1.AssignedIDCreated, WaitingForCloudAssignment, "Foo: bar"), ""},
		"no condition":                      {podidv1.AzureAssignedIdentityStatus{}, ""},
		"a sentence before the first colon": {status(podidv1.AssignedIDCreated, CloudRefused, "Azure refused it: 400"), ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CodeOf(tc.have); got != tc.want {
				t.Fatalf("CodeOf = %q, want %q", got, tc.want)
			}
		})
	}
}

package token

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

func TestDescribeAssignments(t *testing.T) {
	created := podidv1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"},
		Spec:       podidv1.AzureAssignedIdentitySpec{Pod: "p", PodNamespace: "ns"},
		Status: podidv1.AzureAssignedIdentityStatus{Status: podidv1.AssignedIDCreated, Conditions: []metav1.Condition{{
			Type: "Ready", Status: metav1.ConditionFalse, Reason: "CloudRefused",
			Message: "LinkedAuthorizationFailed: lacks assign/action. Grant it with: az role assignment create --role \"Managed Identity Operator\"",
		}}},
	}
	assigned := created
	assigned.Name, assigned.Status = "b", podidv1.AzureAssignedIdentityStatus{Status: podidv1.AssignedIDAssigned}
	other := created
	other.Name, other.Spec.Pod = "c", "q"
	waiting := created
	waiting.Name, waiting.Status = "d", podidv1.AzureAssignedIdentityStatus{Status: podidv1.AssignedIDCreated, Conditions: []metav1.Condition{{
		Type: "Ready", Status: metav1.ConditionFalse, Reason: "CloudUnavailable",
		Message: "Azure could not be reached about vmss: dial tcp: connection refused; podid retries with back-off.",
	}}}
	cases := map[string]struct {
		items []podidv1.AzureAssignedIdentity
		want  string
	}{
		"a refused assignment gives the ARM code and the fix once": {
			items: []podidv1.AzureAssignedIdentity{created, assigned, other},
			want:  `AzureAssignedIdentity ns/a is Created (LinkedAuthorizationFailed): lacks assign/action. Grant it with: az role assignment create --role "Managed Identity Operator"`,
		},
		"without an ARM code the condition reason says why": {
			items: []podidv1.AzureAssignedIdentity{waiting},
			want:  `AzureAssignedIdentity ns/d is Created (CloudUnavailable): Azure could not be reached about vmss: dial tcp: connection refused; podid retries with back-off.`,
		},
		"no assignment of the pod points at the binding": {
			items: []podidv1.AzureAssignedIdentity{other},
			want:  "no AzureAssignedIdentity names pod ns/p: does an AzureIdentityBinding select its aadpodidbinding label?",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := describeAssignments(c.items, "ns", "p"); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

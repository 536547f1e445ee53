package doctor

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

func staleAssignment(pod, node string, age time.Duration) *podidv1.AzureAssignedIdentity {
	return &podidv1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: pod + "-ns-id", CreationTimestamp: metav1.NewTime(testNow.Add(-age))},
		Spec:       podidv1.AzureAssignedIdentitySpec{Pod: pod, PodNamespace: "ns", NodeName: node},
		Status:     podidv1.AzureAssignedIdentityStatus{Status: podidv1.AssignedIDAssigned},
	}
}

func runningPod(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: corev1.PodSpec{NodeName: node}}
}

func TestStaleAssignments(t *testing.T) {
	cases := map[string]struct {
		facts          *Facts
		status         Status
		message, fix   string
		wantNoFindings bool
	}{
		"an assignment of a running pod on its node passes": {
			facts:  facts(runningPod("p", "n1"), staleAssignment("p", "n1", time.Hour)),
			status: Pass, message: "1 assignment belong",
		},
		"an assignment whose pod is gone for minutes warns with the delete command": {
			facts:  facts(staleAssignment("gone", "n1", 5*time.Minute)),
			status: Warn, message: "outlives its pod",
			fix: "kubectl -n ns delete azureassignedidentity gone-ns-id",
		},
		"an assignment naming another node than the pod's warns": {
			facts:  facts(runningPod("p", "n2"), staleAssignment("p", "n1", 5*time.Minute)),
			status: Warn, message: "names node n1 but the pod runs on n2",
		},
		"a fresh leftover is mic's to remove, not yet a finding": {
			facts:  facts(staleAssignment("gone", "n1", 10*time.Second)),
			status: Pass,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkStaleAssignments(tc.facts)
			if len(got) != 1 {
				t.Fatalf("want one finding, got %+v", got)
			}
			if got[0].Status != tc.status || !strings.Contains(got[0].Message, tc.message) || !strings.Contains(got[0].Fix, tc.fix) {
				t.Errorf("got %+v; want %s %q fix %q", got[0], tc.status, tc.message, tc.fix)
			}
		})
	}
}

func TestUnusedIdentities(t *testing.T) {
	id := &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "lonely"}}
	got := checkUnusedIdentities(facts(id))
	if len(got) != 1 || got[0].Status != Warn || got[0].Object != "AzureIdentity ns/lonely" || !strings.Contains(got[0].Fix, `"azureIdentity":"lonely"`) {
		t.Fatalf("an identity no binding names should warn with a binding to apply; got %+v", got)
	}
	b := &podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b"}, Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: "lonely", Selector: "x"}}
	if got := checkUnusedIdentities(facts(id, b)); len(got) != 1 || got[0].Status != Pass {
		t.Fatalf("a bound identity passes; got %+v", got)
	}
	other := &podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "b"}, Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: "lonely", Selector: "x"}}
	if got := checkUnusedIdentities(facts(id, other)); len(got) != 1 || got[0].Status != Warn {
		t.Fatalf("a binding of another namespace does not use it; got %+v", got)
	}
}

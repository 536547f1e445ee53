package faults

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// The outage test's verdict on mic rests on tallyAssignments; it needs
// neither a cluster nor root.
func TestTallyAssignments(t *testing.T) {
	now := metav1.Now()
	pod := func(name string, mod ...func(*corev1.Pod)) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{podidv1.SelectorLabel: "app"}},
			Spec: corev1.PodSpec{NodeName: "n"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		for _, m := range mod {
			m(&p)
		}
		return p
	}
	assigned := func(name, pod, state string) podidv1.AzureAssignedIdentity {
		return podidv1.AzureAssignedIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec:   podidv1.AzureAssignedIdentitySpec{Pod: pod, PodNamespace: "ns"},
			Status: podidv1.AzureAssignedIdentityStatus{Status: state}}
	}
	ok := podidv1.AssignedIDAssigned
	cases := map[string]struct {
		pods      []corev1.Pod
		assigned  []podidv1.AzureAssignedIdentity
		want      tally
		converged bool
	}{
		"one Assigned assignment per labelled pod is converged": {
			pods:      []corev1.Pod{pod("a"), pod("b")},
			assigned:  []podidv1.AzureAssignedIdentity{assigned("a-id", "a", ok), assigned("b-id", "b", ok)},
			want:      tally{Expected: 2, Found: 2, OK: 2},
			converged: true,
		},
		"a pod without an assignment is missing": {
			pods:     []corev1.Pod{pod("a"), pod("b")},
			assigned: []podidv1.AzureAssignedIdentity{assigned("a-id", "a", ok)},
			want:     tally{Expected: 2, Found: 1, OK: 1, Missing: 1},
		},
		"a second assignment of one pod is a duplicate": {
			pods:     []corev1.Pod{pod("a")},
			assigned: []podidv1.AzureAssignedIdentity{assigned("a-id", "a", ok), assigned("a-id2", "a", ok)},
			want:     tally{Expected: 1, Found: 2, Duplicated: 1},
		},
		"an assignment of a deleted pod is extra": {
			pods:     []corev1.Pod{pod("a")},
			assigned: []podidv1.AzureAssignedIdentity{assigned("a-id", "a", ok), assigned("gone-id", "gone", ok)},
			want:     tally{Expected: 1, Found: 2, OK: 1, Extra: 1},
		},
		"a terminating pod, an unlabelled one, another node's and a finished one are owed nothing": {
			pods: []corev1.Pod{
				pod("del", func(p *corev1.Pod) { p.DeletionTimestamp = &now }),
				pod("plain", func(p *corev1.Pod) { p.Labels = nil }),
				pod("far", func(p *corev1.Pod) { p.Spec.NodeName = "other" }),
				pod("done", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			},
			assigned:  []podidv1.AzureAssignedIdentity{assigned("del-id", "del", ok)},
			want:      tally{Found: 1, Extra: 1},
			converged: false,
		},
		"an assignment not Assigned yet is not OK": {
			pods:     []corev1.Pod{pod("a")},
			assigned: []podidv1.AzureAssignedIdentity{assigned("a-id", "a", podidv1.AssignedIDCreated)},
			want:     tally{Expected: 1, Found: 1, NotAssigned: 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tallyAssignments(tc.pods, tc.assigned, "n")
			got.Examples = nil
			if got.String() != tc.want.String() {
				t.Errorf("tally %s, want %s", got, tc.want)
			}
			if got.converged() != tc.converged {
				t.Errorf("converged %v, want %v", got.converged(), tc.converged)
			}
		})
	}
}

package doctor

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

func TestAgentTaint(t *testing.T) {
	tainted := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: podidv1.AgentNotReadyTaint, Value: "true", Effect: corev1.TaintEffectNoSchedule}}}}
	clean := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}
	waiting := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "app"},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
			Message: "0/1 nodes are available: 1 node(s) had untolerated taint {podid.dev/agent-not-ready: true}.",
		}}}}
	cases := map[string]struct {
		nodes    []corev1.Node
		pods     []corev1.Pod
		want     Status
		evidence string
	}{
		"a tainted node fails, naming the pods it keeps Pending": {nodes: []corev1.Node{tainted, clean}, pods: []corev1.Pod{waiting}, want: Fail, evidence: "default/app"},
		"a tainted node with no pod waiting still fails":         {nodes: []corev1.Node{tainted}, want: Fail, evidence: "taint " + podidv1.AgentNotReadyTaint},
		"no tainted node passes":                                 {nodes: []corev1.Node{clean}, pods: []corev1.Pod{waiting}, want: Pass},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkAgentTaint(&Facts{Nodes: tc.nodes, Pods: tc.pods})
			if len(got) != 1 || got[0].Status != tc.want {
				t.Fatalf("findings %+v, want one %s", got, tc.want)
			}
			if tc.want == Fail {
				if got[0].Object != "Node n1" || got[0].Fix == "" || !strings.Contains(strings.Join(got[0].Evidence, "\n"), tc.evidence) {
					t.Errorf("finding %+v: want node n1, a fix and evidence with %q", got[0], tc.evidence)
				}
			}
		})
	}
	if got := checkAgentTaint(&Facts{}); len(got) != 0 {
		t.Errorf("no nodes in view: %+v, want no finding", got)
	}
}

package doctor

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// clusterVerdicts reduces findings to "status object" lines, the part cluster
// check tables compare.
func clusterVerdicts(fs []Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, strings.TrimSpace(string(f.Status)+" "+f.Object))
	}
	return out
}

// assertClusterFindings compares findings with want ("status object" lines, in
// order) and, if fix is set, requires the first finding's fix to hold it.
func assertClusterFindings(t *testing.T, got []Finding, want []string, fix string) {
	t.Helper()
	if g := clusterVerdicts(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n  %s\nwant:\n  %s\nfull: %+v", strings.Join(g, "\n  "), strings.Join(want, "\n  "), got)
	}
	if fix != "" && (len(got) == 0 || !strings.Contains(got[0].Fix, fix)) {
		t.Fatalf("fix %q does not contain %q", got[0].Fix, fix)
	}
	for _, f := range got {
		if f.Message == "" {
			t.Errorf("finding %+v has no message", f)
		}
		if f.Status == Fail && f.Fix == "" {
			t.Errorf("failed finding %+v has no fix", f)
		}
	}
}

// podOnNode is a pod of ns on node.
func podOnNode(ns, name, node string) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// hostPodOnNode is podOnNode on the host network.
func hostPodOnNode(ns, name, node string) corev1.Pod {
	p := podOnNode(ns, name, node)
	p.Spec.HostNetwork = true
	return p
}

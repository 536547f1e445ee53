package doctor

import (
	"testing"

	"github.com/podid/podid/internal/plan"
)

// The real nodes' kubelets of a podid up run reach the doctor with their
// logs, where the kubelet writes what its credential provider said.
func TestSupervisedKnowsTheRealNodesKubelets(t *testing.T) {
	rec := &plan.Record{Processes: []plan.Process{
		{Name: "mic", PID: 1},
		{Name: "nmi node-0", PID: 2},
		{Name: "containerd node-9", PID: 3, Log: "/s/run/node0/containerd.log"},
		{Name: "kubelet node-9", PID: 4, Log: "/s/run/node0/kubelet.log"},
	}}
	s := supervised("/s", rec, func(plan.Process) bool { return true })
	if k, ok := s.Kubelets["node-9"]; !ok || k.Log != "/s/run/node0/kubelet.log" || k.PID != 4 {
		t.Fatalf("kubelets = %+v; want node-9's with its log", s.Kubelets)
	}
	if len(s.Kubelets) != 1 || s.Controller == nil || len(s.Agents) != 1 {
		t.Fatalf("supervised = %+v; want one kubelet, mic and one agent", s)
	}
}

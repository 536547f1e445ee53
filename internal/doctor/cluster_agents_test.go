package doctor

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCheckNodeAgents(t *testing.T) {
	ready := AgentFact{Address: "10.0.0.1:8085", Reachable: true, Ready: true, Detail: "200 OK"}
	notReady := AgentFact{Address: "10.0.0.2:8085", Reachable: true, Detail: "503 Service Unavailable: not ready: pod index not synced"}
	down := AgentFact{Address: "10.0.0.3:8085", Detail: "dial tcp 10.0.0.3:8085: connect: connection refused"}
	daemonSet := Component{Kind: NodeAgent, Product: "podid", Object: "DaemonSet podid/podid-nmi"}
	cases := map[string]struct {
		scope      Scope
		pods       []corev1.Pod
		agents     map[string]AgentFact
		components []Component
		supervised *Supervised
		want       []string
		fix        string
	}{
		"agents not probed skip": {
			pods: []corev1.Pod{podOnNode("a", "p", "n1")},
			want: []string{"skip"},
		},
		"a ready agent on every node with pods passes": {
			pods:   []corev1.Pod{podOnNode("a", "p", "n1"), podOnNode("a", "q", "n1")},
			agents: map[string]AgentFact{"n1": ready},
			want:   []string{"pass"},
		},
		"an agent that does not answer fails with the address tried": {
			pods:       []corev1.Pod{podOnNode("a", "p", "n1"), podOnNode("a", "q", "n3")},
			agents:     map[string]AgentFact{"n1": ready, "n3": down},
			components: []Component{daemonSet},
			want:       []string{"fail Node n3", "pass"},
			fix:        "kubectl -n podid get pods -o wide --field-selector spec.nodeName=n3",
		},
		"an agent that is not ready fails": {
			pods:   []corev1.Pod{podOnNode("a", "p", "n2")},
			agents: map[string]AgentFact{"n2": notReady},
			want:   []string{"fail Node n2"},
			fix:    "Install podid's node agent",
		},
		"a node that could not be probed warns": {
			pods:   []corev1.Pod{podOnNode("a", "p", "n4")},
			agents: map[string]AgentFact{},
			want:   []string{"warn Node n4"},
		},
		"pods on the host network need no agent": {
			pods:   []corev1.Pod{hostPodOnNode("kube-system", "proxy", "n3")},
			agents: map[string]AgentFact{"n3": down},
		},
		"a host-network pod in pod scope skips": {
			scope:  Scope{Pod: "kube-system/proxy"},
			pods:   []corev1.Pod{hostPodOnNode("kube-system", "proxy", "n3"), podOnNode("a", "p", "n3")},
			agents: map[string]AgentFact{"n3": down},
			want:   []string{"skip Pod kube-system/proxy"},
		},
		"nodes of pods out of scope are not reported": {
			scope:  Scope{Namespace: "a"},
			pods:   []corev1.Pod{podOnNode("a", "p", "n1"), podOnNode("b", "q", "n3")},
			agents: map[string]AgentFact{"n1": ready, "n3": down},
			want:   []string{"pass"},
		},
		"a podid up agent that is not ready points at its log": {
			pods:       []corev1.Pod{podOnNode("a", "p", "n2")},
			agents:     map[string]AgentFact{"n2": notReady},
			supervised: &Supervised{StateDir: "/s", Agents: map[string]Process{"n2": {Name: "nmi n2", PID: 7, Alive: true, Log: "/s/run/nmi-n2.log"}}},
			want:       []string{"fail Node n2"},
			fix:        "tail -n 50 /s/run/nmi-n2.log",
		},
		"a podid up agent that exited says to restart the run": {
			pods:       []corev1.Pod{podOnNode("a", "p", "n3")},
			agents:     map[string]AgentFact{"n3": down},
			supervised: &Supervised{StateDir: "/s", Agents: map[string]Process{"n3": {Name: "nmi n3", PID: 7}}},
			want:       []string{"fail Node n3"},
			fix:        "podid down --state-dir /s && podid up --state-dir /s",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &Facts{Scope: tc.scope, Pods: tc.pods, Agents: tc.agents, Components: tc.components, Supervised: tc.supervised}
			got := checkNodeAgents(f)
			assertClusterFindings(t, got, tc.want, tc.fix)
		})
	}
}

func TestCheckNodeAgentsShowsTheReadinessBody(t *testing.T) {
	f := &Facts{
		Pods:   []corev1.Pod{podOnNode("a", "p", "n2")},
		Agents: map[string]AgentFact{"n2": {Address: "10.0.0.2:8085", Reachable: true, Detail: "503 Service Unavailable: not ready: pod index not synced"}},
	}
	got := checkNodeAgents(f)
	want := "probe GET http://10.0.0.2:8085/readyz: 503 Service Unavailable: not ready: pod index not synced"
	if len(got) != 1 || len(got[0].Evidence) != 2 || got[0].Evidence[1] != want {
		t.Fatalf("evidence %+v, want %q", got, want)
	}
}

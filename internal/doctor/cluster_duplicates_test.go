package doctor

import "testing"

func TestCheckDuplicateAgents(t *testing.T) {
	oldNMI := Component{Kind: NodeAgent, Product: "aad-pod-identity", Object: "DaemonSet default/nmi", Image: "mcr.microsoft.com/oss/azure/aad-pod-identity/nmi:v1.8.17", Desired: 3, Ready: 3}
	oldHelmNMI := oldNMI
	oldHelmNMI.HelmRelease = "kube-system/aad-pod-identity"
	podidNMI := Component{Kind: NodeAgent, Product: "podid", Object: "DaemonSet podid/podid-nmi", Image: "podid:1", Desired: 3, Ready: 3}
	otherPodidNMI := Component{Kind: NodeAgent, Product: "podid", Object: "DaemonSet test/podid-nmi", Image: "podid:1", Desired: 3, Ready: 1}
	mic := Component{Kind: Controller, Product: "podid", Object: "Deployment podid/podid-mic"}
	upAgents := &Supervised{StateDir: "/s", Agents: map[string]Process{"n1": {Name: "nmi n1"}}}
	cases := map[string]struct {
		components []Component
		supervised *Supervised
		problems   []string
		want       []string
		fix        string
	}{
		"one agent passes": {
			components: []Component{podidNMI, mic},
			want:       []string{"pass"},
		},
		"podid up's agents alone pass": {
			supervised: upAgents,
			want:       []string{"pass"},
		},
		"aad-pod-identity's nmi beside podid's fails naming the old one": {
			components: []Component{podidNMI, oldNMI},
			want:       []string{"fail DaemonSet default/nmi"},
			fix:        "kubectl -n default delete daemonset nmi",
		},
		"an old nmi installed by Helm is removed by helm uninstall": {
			components: []Component{oldHelmNMI, podidNMI},
			want:       []string{"fail DaemonSet default/nmi"},
			fix:        "helm uninstall -n kube-system aad-pod-identity",
		},
		"two podid DaemonSets fail naming the less ready one": {
			components: []Component{podidNMI, otherPodidNMI},
			want:       []string{"fail DaemonSet test/podid-nmi"},
			fix:        "kubectl -n test delete daemonset podid-nmi",
		},
		"a DaemonSet beside podid up's agents fails": {
			components: []Component{podidNMI},
			supervised: upAgents,
			want:       []string{"fail DaemonSet podid/podid-nmi"},
			fix:        "kubectl -n podid delete daemonset podid-nmi",
		},
		"DaemonSets that could not be listed skip": {
			problems: []string{"could not list DaemonSets: forbidden"},
			want:     []string{"skip"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkDuplicateAgents(&Facts{Components: tc.components, Supervised: tc.supervised, Problems: tc.problems})
			assertClusterFindings(t, got, tc.want, tc.fix)
		})
	}
}

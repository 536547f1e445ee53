package doctor

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// micLease is podid mic's Lease in ns, held by holder and renewed at
// renewed for 15 seconds.
func micLease(ns, holder string, renewed time.Time) coordinationv1.Lease {
	return coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ControllerLease},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(holder),
			LeaseDurationSeconds: ptr.To[int32](15),
			RenewTime:            &metav1.MicroTime{Time: renewed},
		},
	}
}

func TestCheckController(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	mic := Component{Kind: Controller, Product: "podid", Object: "Deployment podid/podid-mic", Image: "podid:1", Desired: 2, Ready: 2}
	micDown := mic
	micDown.Ready = 0
	micZero := mic
	micZero.Desired, micZero.Ready = 0, 0
	oldMIC := Component{Kind: Controller, Product: "aad-pod-identity", Object: "Deployment default/mic", Image: "mcr.microsoft.com/oss/azure/aad-pod-identity/mic:v1.8.17", Desired: 1, Ready: 1}
	cases := map[string]struct {
		components []Component
		leases     []coordinationv1.Lease
		supervised *Supervised
		problems   []string
		want       []string
		fix        string
	}{
		"no controller fails": {
			components: []Component{{Kind: NodeAgent, Product: "podid", Object: "DaemonSet podid/podid-nmi"}},
			want:       []string{"fail"},
		},
		"a ready controller without a Lease passes": {
			components: []Component{mic},
			want:       []string{"pass Deployment podid/podid-mic"},
		},
		"a ready controller whose Lease is held and fresh passes": {
			components: []Component{mic},
			leases:     []coordinationv1.Lease{micLease("podid", "podid-mic-abc", now.Add(-5*time.Second))},
			want:       []string{"pass Deployment podid/podid-mic"},
		},
		"a controller with no ready replica fails with its logs": {
			components: []Component{micDown},
			want:       []string{"fail Deployment podid/podid-mic"},
			fix:        "kubectl -n podid logs deployment/podid-mic",
		},
		"a controller scaled to zero fails with the scale command": {
			components: []Component{micZero},
			want:       []string{"fail Deployment podid/podid-mic"},
			fix:        "kubectl -n podid scale deployment/podid-mic --replicas=1",
		},
		"a Lease held by nobody fails": {
			components: []Component{mic},
			leases:     []coordinationv1.Lease{micLease("podid", "", now)},
			want:       []string{"fail Lease podid/podid-mic"},
		},
		"an expired Lease fails": {
			components: []Component{mic},
			leases:     []coordinationv1.Lease{micLease("podid", "podid-mic-abc", now.Add(-time.Minute))},
			want:       []string{"fail Lease podid/podid-mic"},
		},
		"a Lease of another namespace is not the controller's": {
			components: []Component{mic},
			leases:     []coordinationv1.Lease{micLease("other", "", now)},
			want:       []string{"pass Deployment podid/podid-mic"},
		},
		"two controllers fail naming the old one": {
			components: []Component{mic, oldMIC},
			want:       []string{"fail Deployment default/mic", "pass Deployment default/mic", "pass Deployment podid/podid-mic"},
			fix:        "kubectl -n default delete deployment mic",
		},
		"mic under podid up passes while its process lives": {
			supervised: &Supervised{StateDir: "/s", Controller: &Process{Name: "mic", PID: 42, Alive: true}},
			want:       []string{"pass Process mic (PID 42)"},
		},
		"mic under podid up fails when its process is gone": {
			supervised: &Supervised{StateDir: "/s", Controller: &Process{Name: "mic", PID: 42, Log: "/s/run/mic.log"}},
			want:       []string{"fail Process mic (PID 42)"},
			fix:        "podid up --state-dir /s",
		},
		"Deployments that could not be listed skip": {
			problems: []string{"could not list Deployments: forbidden"},
			want:     []string{"skip"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &Facts{Now: now, Components: tc.components, Leases: tc.leases, Supervised: tc.supervised, Problems: tc.problems}
			got := checkController(f)
			assertClusterFindings(t, got, tc.want, tc.fix)
		})
	}
}

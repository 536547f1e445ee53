package assign

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	podidv1 "github.com/podid/podid/api/v1"
)

// stored is the assignment this controller wrote for pod default/web on
// node-0 with UID uid-1, as the cache returns it.
func stored(mods ...func(*podidv1.AzureAssignedIdentity)) *podidv1.AzureAssignedIdentity {
	p := pod("default", "web", "kv", func(p *Pod) { p.UID = "uid-1" })
	id, b := identity("default", "reader"), binding("default", "b", "reader", "kv")
	a := build(Assignment{Namespace: "default", Name: "web-default-reader", Pod: p, Identity: &id, Binding: &b}, podidv1.TokenModeNode, true)
	for _, m := range mods {
		m(a)
	}
	return a
}

func TestMadeForAnotherPod(t *testing.T) {
	cases := map[string]struct {
		// have is the stored assignment of the pod's name.
		have *podidv1.AzureAssignedIdentity
		// pod is the pod of that name now.
		pod Pod
		// want are parts of the explanation; none means the assignment is
		// the pod's own and is kept (and updated in place if need be).
		want []string
	}{
		"the assignment of the same pod is its own": {
			have: stored(), pod: pod("default", "web", "kv", func(p *Pod) { p.UID = "uid-1" })},
		"a pod recreated on another node gets a new assignment": {
			have: stored(), pod: pod("default", "web", "kv", func(p *Pod) { p.UID = "uid-2"; p.NodeName = "node-1" }),
			want: []string{"default/web", `node "node-0"`, `node "node-1"`}},
		"a pod recreated on the same node gets a new assignment": {
			have: stored(), pod: pod("default", "web", "kv", func(p *Pod) { p.UID = "uid-2" }),
			want: []string{"default/web", "UID uid-1", "UID uid-2"}},
		"an assignment without a recorded UID on the pod's node is the pod's, as aad-pod-identity left it": {
			have: stored(func(a *podidv1.AzureAssignedIdentity) { a.Annotations = nil }),
			pod:  pod("default", "web", "kv", func(p *Pod) { p.UID = "uid-2" })},
		"an assignment without a recorded UID on another node is replaced": {
			have: stored(func(a *podidv1.AzureAssignedIdentity) { a.Annotations = nil }),
			pod:  pod("default", "web", "kv", func(p *Pod) { p.UID = "uid-2"; p.NodeName = "node-1" }),
			want: []string{`node "node-0"`, `node "node-1"`}},
		"a pod whose UID is not known is judged by its node alone": {
			have: stored(), pod: pod("default", "web", "kv")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := madeForAnotherPod(tc.have, tc.pod)
			if (got == "") != (len(tc.want) == 0) {
				t.Fatalf("madeForAnotherPod = %q, want parts %q", got, tc.want)
			}
			for _, part := range tc.want {
				if !strings.Contains(got, part) {
					t.Errorf("explanation %q does not say %q", got, part)
				}
			}
		})
	}
}

func TestBuildRecordsThePodUID(t *testing.T) {
	id, b := identity("default", "reader"), binding("default", "b", "reader", "kv")
	cases := map[string]struct {
		uid string
		// want is the annotation's value; "" means no annotation.
		want string
	}{
		"the pod's UID is recorded":                 {uid: "uid-1", want: "uid-1"},
		"a pod without a UID records no UID at all": {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := pod("default", "web", "kv", func(p *Pod) { p.UID = tc.uid })
			a := build(Assignment{Namespace: "default", Name: "web-default-reader", Pod: p, Identity: &id, Binding: &b}, podidv1.TokenModeNode, true)
			got, ok := a.Annotations[podidv1.PodUIDAnnotation]
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("annotation %q (present %v), want %q", got, ok, tc.want)
			}
		})
	}
}

func TestSpecOutdated(t *testing.T) {
	cases := map[string]struct {
		have *podidv1.AzureAssignedIdentity
		want bool
	}{
		"the stored assignment as built is up to date": {have: stored()},
		"an assignment without the pod's UID is updated to record it": {
			have: stored(func(a *podidv1.AzureAssignedIdentity) { a.Annotations = nil }), want: true},
		"other annotations do not count": {
			have: stored(func(a *podidv1.AzureAssignedIdentity) { a.Annotations["note"] = "x" })},
		"another token mode is updated": {
			have: stored(func(a *podidv1.AzureAssignedIdentity) { a.Spec.TokenMode = podidv1.TokenModeFederated }), want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := specOutdated(tc.have, stored()); got != tc.want {
				t.Fatalf("specOutdated = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestResultOf: a conflict is retried at once (with the rate limiter), a
// removal still under way is polled at a fixed interval instead, and any
// other error is returned.
func TestResultOf(t *testing.T) {
	cases := map[string]struct {
		errs    []error
		want    reconcile.Result
		wantErr bool
	}{
		"all done":                       {errs: []error{nil, nil}},
		"a conflict is requeued":         {errs: []error{nil, errConflict}, want: reconcile.Result{Requeue: true}},
		"a removal under way is polled":  {errs: []error{errBeingRemoved}, want: reconcile.Result{RequeueAfter: removalPoll}},
		"a conflict wins over a removal": {errs: []error{errBeingRemoved, errConflict}, want: reconcile.Result{Requeue: true}},
		"a real error is returned":       {errs: []error{errBeingRemoved, errors.New("boom")}, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := resultOf(tc.errs)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("resultOf = %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

package podindex

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
)

// world is a consistent set of live objects for pod default/app and its
// assignment of identity id1 through binding id1-binding (selector
// id1-selector); each case changes one thing.
type world struct {
	assignment *v1.AzureAssignedIdentity
	live       liveObjects
}

func consistentWorld() world {
	a := aai("app-default-id1", "app", "id1", v1.AssignedIDAssigned)
	a.Spec.TokenMode = v1.TokenModeNode
	p := pod("app", "10.0.0.5", labelled("id1-selector"))
	a.Annotations = map[string]string{v1.PodUIDAnnotation: string(p.UID)}
	return world{
		assignment: a,
		live: liveObjects{
			Pod:      p,
			Binding:  a.Spec.AzureBindingRef.DeepCopy(),
			Identity: a.Spec.AzureIdentityRef.DeepCopy(),
		},
	}
}

func TestVouch(t *testing.T) {
	now := metav1.Now()
	cases := map[string]struct {
		// change turns the consistent world into the case's.
		change func(w *world)
		// reason is why the assignment is ignored; "" honours it.
		reason string
		// clientID is the client ID served when honoured.
		clientID string
	}{
		"a valid assignment is honoured with the live identity": {
			change: func(*world) {}, clientID: "id1-client"},
		"a forged assignment for a pod without the label is ignored": {
			change: func(w *world) { delete(w.live.Pod.Labels, v1.SelectorLabel) }, reason: ReasonSelectorMismatch},
		"a pod whose label is not the binding's selector is refused": {
			change: func(w *world) { w.live.Pod.Labels[v1.SelectorLabel] = "other" }, reason: ReasonSelectorMismatch},
		"an assignment naming an identity its binding does not name is ignored": {
			change: func(w *world) { w.live.Binding.Spec.AzureIdentity = "id2" }, reason: ReasonOtherIdentity},
		"an assignment whose identity was deleted is ignored": {
			change: func(w *world) { w.live.Identity = nil }, reason: ReasonIdentityNotFound},
		"an assignment whose identity is being deleted is ignored": {
			change: func(w *world) { w.live.Identity.DeletionTimestamp = &now }, reason: ReasonIdentityNotFound},
		"an assignment whose binding was deleted is ignored": {
			change: func(w *world) { w.live.Binding = nil }, reason: ReasonBindingNotFound},
		"an assignment for a pod not on this node is ignored": {
			change: func(w *world) { w.live.Pod = nil }, reason: ReasonPodNotFound},
		"an assignment made for an earlier pod of the same name is ignored": {
			change: func(w *world) { w.live.Pod.UID = "uid-recreated" }, reason: ReasonOtherPod},
		"an assignment recording an empty pod UID is ignored": {
			change: func(w *world) { w.assignment.Annotations[v1.PodUIDAnnotation] = "" }, reason: ReasonOtherPod},
		"an assignment without a recorded pod UID, as aad-pod-identity wrote them, is honoured": {
			change: func(w *world) { w.assignment.Annotations = nil }, clientID: "id1-client"},
		"an assignment for the pod on another node is ignored": {
			change: func(w *world) { w.live.Pod.Spec.NodeName = "n2" }, reason: ReasonOtherNode},
		"an assignment for another node without a recorded pod UID is ignored": {
			change: func(w *world) { w.assignment.Annotations = nil; w.assignment.Spec.NodeName = "n2" }, reason: ReasonOtherNode},
		"a pod recreated on another node is told by its node first": {
			change: func(w *world) { w.live.Pod.UID = "uid-recreated"; w.live.Pod.Spec.NodeName = "n2" }, reason: ReasonOtherNode},
		"an assignment without a binding reference is ignored": {
			change: func(w *world) { w.assignment.Spec.AzureBindingRef = nil }, reason: ReasonNoReferences},
		"a binding in another namespace does not serve the pod": {
			change: func(w *world) { moveBindingAndIdentity(w, "other") }, reason: ReasonOtherNamespace},
		"with cluster-wide bindings a binding in another namespace serves the pod": {
			change: func(w *world) { moveBindingAndIdentity(w, "other"); w.live.ClusterWide = true }, clientID: "id1-client"},
		"a namespaced identity is not served across namespaces even cluster-wide": {
			change: func(w *world) {
				moveBindingAndIdentity(w, "other")
				w.live.ClusterWide = true
				w.live.Identity.Annotations = map[string]string{v1.BehaviorAnnotation: v1.BehaviorNamespaced}
			}, reason: ReasonOtherNamespace},
		"an identity edited to another client ID serves the live client ID": {
			change: func(w *world) { w.live.Identity.Spec.ClientID = "edited-client" }, clientID: "edited-client"},
		"a forged copy of the identity in the assignment is not used": {
			change: func(w *world) {
				w.assignment.Spec.AzureIdentityRef.Spec.ClientID = "forged-client"
				w.assignment.Spec.AzureIdentityRef.Spec.ClientPassword = &corev1.SecretReference{Namespace: "kube-system", Name: "stolen"}
			}, clientID: "id1-client"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := consistentWorld()
			tc.change(&w)
			got, v := vouch(w.assignment, w.live)
			if v.Reason != tc.reason {
				t.Fatalf("verdict %+v, want reason %q", v, tc.reason)
			}
			if tc.reason != "" {
				if got.Identity != (tokens.Identity{}) {
					t.Fatalf("an ignored assignment returned identity %+v", got.Identity)
				}
				return
			}
			if got.Identity.ClientID != tc.clientID || got.Identity.SecretName != "" || got.State != v1.AssignedIDAssigned ||
				got.Identity.Mode != tokens.ModeNode || got.Name != "default/app-default-id1" {
				t.Fatalf("honoured as %+v, want client ID %q, the assignment's state and token mode", got, tc.clientID)
			}
		})
	}
}

// moveBindingAndIdentity puts the binding and identity, live and as the
// assignment names them, in namespace ns.
func moveBindingAndIdentity(w *world, ns string) {
	w.live.Binding.Namespace, w.live.Identity.Namespace = ns, ns
	w.assignment.Spec.AzureBindingRef.Namespace, w.assignment.Spec.AzureIdentityRef.Namespace = ns, ns
}

func TestIdentitiesForHonoursOnlyJustifiedAssignments(t *testing.T) {
	x := newTestIndex(t)
	w := consistentWorld()
	_ = x.pods.Add(w.live.Pod)
	_ = x.bindings.Add(w.live.Binding)
	_ = x.identities.Add(w.live.Identity)
	_ = x.assigned.Add(w.assignment)
	forged := aai("forged", "app", "id2", v1.AssignedIDAssigned) // no binding id2-binding exists
	_ = x.assigned.Add(forged)
	ref := server.PodRef{Namespace: "default", Name: "app"}
	list, ch := x.IdentitiesFor(t.Context(), ref)
	if len(list) != 1 || list[0].Name != "default/app-default-id1" {
		t.Fatalf("identities %+v, want only the justified assignment", list)
	}
	if x.ignored["default/forged"].Reason != ReasonBindingNotFound {
		t.Fatalf("ignored %+v, want the forged assignment noted", x.ignored)
	}

	edited := w.live.Identity.DeepCopy()
	edited.Spec.ClientID = "edited-client"
	var gone []tokens.IdentityKey
	h := identityHandler(x, func(k tokens.IdentityKey) { gone = append(gone, k) })
	_ = x.identities.Update(edited)
	h.OnUpdate(w.live.Identity, edited)
	select {
	case <-ch:
	default:
		t.Fatal("an identity change did not wake the waiter")
	}
	if len(gone) != 1 || gone[0] != toIdentity(w.assignment, w.live.Identity).Key() {
		t.Fatalf("evicted %v, want the old identity's key", gone)
	}
	if list, _ := x.IdentitiesFor(t.Context(), ref); len(list) != 1 || list[0].Identity.ClientID != "edited-client" {
		t.Fatalf("identities %+v, want the edited client ID", list)
	}

	_ = x.bindings.Delete(w.live.Binding)
	if list, _ := x.IdentitiesFor(t.Context(), ref); len(list) != 0 {
		t.Fatalf("identities %+v after the binding was deleted, want none", list)
	}
}

// TestVouchExplainsAReplacedAssignment checks that the log line of an
// assignment left over from an earlier pod names the pod and says what
// happens next.
func TestVouchExplainsAReplacedAssignment(t *testing.T) {
	cases := map[string]struct {
		change func(w *world)
		want   []string
	}{
		"another pod UID": {
			change: func(w *world) { w.live.Pod.UID = "uid-recreated" },
			want:   []string{"default/app", "uid-app", "uid-recreated", "mic will replace it"}},
		"another node": {
			change: func(w *world) { w.live.Pod.Spec.NodeName = "n2" },
			want:   []string{"default/app", `"n1"`, `"n2"`, "mic will replace it"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := consistentWorld()
			tc.change(&w)
			_, v := vouch(w.assignment, w.live)
			for _, part := range tc.want {
				if !strings.Contains(v.Message, part) {
					t.Errorf("message %q does not say %q", v.Message, part)
				}
			}
		})
	}
}

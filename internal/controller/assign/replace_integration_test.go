package assign_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/testenv"
)

// TestAnAssignmentOfAnEarlierPodIsReplaced starts mic on a cluster where a
// pod's name already has an assignment, as a mic that was down while the
// pod was deleted and recreated finds it. One made for another node or
// another pod UID is deleted and a new one created (the object's UID
// changes); one without a recorded pod UID on the pod's own node, as
// aad-pod-identity or an older podid wrote it, is kept and gets the UID.
func TestAnAssignmentOfAnEarlierPodIsReplaced(t *testing.T) {
	env := testenv.StartT(t, testenv.Options{Nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cases := map[string]struct {
		// node is the node index the old assignment names.
		node int
		// uid is the pod UID it records; "" records none.
		uid string
		// replaced says the object must be a new one.
		replaced bool
	}{
		"made for the pod on another node":           {node: 1, uid: "uid-of-an-earlier-pod", replaced: true},
		"made for an earlier pod on the same node":   {node: 0, uid: "uid-of-an-earlier-pod", replaced: true},
		"left by aad-pod-identity on the pod's node": {node: 0},
		"left by aad-pod-identity on another node":   {node: 1, replaced: true},
	}
	type seeded struct {
		ns     string
		key    types.NamespacedName
		objUID types.UID
		podUID types.UID
	}
	seeds := map[string]seeded{}
	// Everything is in place before mic starts, so its first look at each
	// pod finds the old assignment.
	for name, tc := range cases {
		ns := env.NewNamespace(t)
		id := &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "id"},
			Spec: podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: clientID, ResourceID: resourceID}}
		b := &podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"},
			Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: "id", Selector: "app"}}
		for _, o := range []client.Object{id, b} {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Fatalf("%s: create %T: %v", name, o, err)
			}
		}
		p := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: "db-0", Node: env.Nodes[0].Name, Labels: map[string]string{podidv1.SelectorLabel: "app"}})
		if err := env.CreatePods(ctx, []*corev1.Pod{p}, 1); err != nil {
			t.Fatal(err)
		}
		var pod corev1.Pod
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), &pod); err != nil {
			t.Fatal(err)
		}
		old := oldAssignment(ns, id, b, env.Nodes[tc.node].Name, tc.uid)
		if err := env.Client.Create(ctx, old); err != nil {
			t.Fatalf("%s: create the old assignment: %v", name, err)
		}
		seeds[name] = seeded{ns: ns, key: client.ObjectKeyFromObject(old), objUID: old.UID, podUID: pod.UID}
	}
	startMIC(ctx, t, env)

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := seeds[name]
			var got podidv1.AzureAssignedIdentity
			err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
				if err := env.Client.Get(ctx, s.key, &got); err != nil {
					return false, nil
				}
				return got.Annotations[podidv1.PodUIDAnnotation] == string(s.podUID), nil
			})
			if err != nil {
				t.Fatalf("the assignment records pod UID %q, want the pod's %s", got.Annotations[podidv1.PodUIDAnnotation], s.podUID)
			}
			if replaced := got.UID != s.objUID; replaced != tc.replaced {
				t.Errorf("replaced %v (object UID %s, was %s), want %v", replaced, got.UID, s.objUID, tc.replaced)
			}
			if got.Spec.NodeName != env.Nodes[0].Name || got.Labels[podidv1.NodeNameLabel] != env.Nodes[0].Name || got.Status.Status != podidv1.AssignedIDAssigned {
				t.Errorf("assignment for node %s (label %s), status %s; want %s, Assigned", got.Spec.NodeName, got.Labels[podidv1.NodeNameLabel], got.Status.Status, env.Nodes[0].Name)
			}
		})
	}
}

// oldAssignment is the assignment a mic wrote for pod db-0 on node, with
// the pod UID uid ("" for none), Assigned.
func oldAssignment(ns string, id *podidv1.AzureIdentity, b *podidv1.AzureIdentityBinding, node, uid string) *podidv1.AzureAssignedIdentity {
	a := &podidv1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-0-" + ns + "-id", Labels: map[string]string{podidv1.NodeNameLabel: node}},
		Spec: podidv1.AzureAssignedIdentitySpec{
			AzureIdentityRef: &podidv1.AzureIdentity{
				TypeMeta:   metav1.TypeMeta{APIVersion: podidv1.GroupVersion.String(), Kind: podidv1.KindAzureIdentity},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: id.Name, UID: id.UID},
				Spec:       id.Spec,
			},
			AzureBindingRef: &podidv1.AzureIdentityBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: podidv1.GroupVersion.String(), Kind: podidv1.KindAzureIdentityBinding},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: b.Name, UID: b.UID},
				Spec:       b.Spec,
			},
			Pod: "db-0", PodNamespace: ns, NodeName: node, TokenMode: podidv1.TokenModeFederated,
		},
		Status: assignstatus.Initial(podidv1.AzureAssignedIdentityStatus{}, false, metav1.Now()),
	}
	if uid != "" {
		a.Annotations = map[string]string{podidv1.PodUIDAnnotation: uid}
	}
	return a
}

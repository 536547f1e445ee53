package cloudassign

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	podidv1 "github.com/podid/podid/api/v1"
)

// deletedOnGoneNode is an assignment being deleted whose node no longer
// exists; machine is what it recorded ("" for none).
func deletedOnGoneNode(machine string) *podidv1.AzureAssignedIdentity {
	now := metav1.Now()
	a := &podidv1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-0-default-a", Finalizers: []string{podidv1.AssignedIdentityFinalizer},
			DeletionTimestamp: &now},
		Spec: podidv1.AzureAssignedIdentitySpec{NodeName: "gone", Pod: "web-0", PodNamespace: "default",
			AzureIdentityRef: &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "a"}, Spec: podidv1.AzureIdentitySpec{ResourceID: idA}}},
	}
	if machine != "" {
		a.Annotations = map[string]string{podidv1.MachineAnnotation: machine}
	}
	return a
}

func newNodeGoneController(t *testing.T, objs ...client.Object) (*Controller, *record.FakeRecorder) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := podidv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	rec := record.NewFakeRecorder(10)
	c := &Controller{Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build(), Recorder: rec, workers: map[string]*Worker{}}
	return c, rec
}

// An assignment of a gone node that recorded its machine goes to that
// machine's worker, which releases its identity (test/nodemode
// TestDeletedNodeReleasesItsIdentity runs the whole way); one that
// recorded none is let go at once, with a Warning that says what may be
// left and how to remove it. Before, both kept their finalizer for ever.
func TestAssignmentOfAGoneNode(t *testing.T) {
	ctx := context.Background()
	t.Run("recorded machine", func(t *testing.T) {
		a := deletedOnGoneNode(vmssID)
		c, _ := newNodeGoneController(t, a)
		if _, err := c.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(a)}); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.workers[strings.ToLower(vmssID)]; !ok {
			t.Fatalf("no worker for the recorded machine; workers: %v", c.workers)
		}
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(a), &podidv1.AzureAssignedIdentity{}); err != nil {
			t.Fatalf("the assignment went before its machine's worker released the identity: %v", err)
		}
	})
	t.Run("no machine recorded", func(t *testing.T) {
		a := deletedOnGoneNode("")
		c, rec := newNodeGoneController(t, a)
		if _, err := c.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(a)}); err != nil {
			t.Fatal(err)
		}
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(a), &podidv1.AzureAssignedIdentity{}); !apierrors.IsNotFound(err) {
			t.Fatalf("the assignment is still there (%v), want it let go", err)
		}
		select {
		case ev := <-rec.Events:
			if !strings.Contains(ev, "Warning NodeGone") || !strings.Contains(ev, "az vmss identity remove") || !strings.Contains(ev, idA) {
				t.Errorf("event %q, want a NodeGone warning naming the identity and the command", ev)
			}
		default:
			t.Error("no Warning event")
		}
	})
}

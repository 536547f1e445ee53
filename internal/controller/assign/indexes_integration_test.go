package assign_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/controller/assign"
	"github.com/podid/podid/internal/testenv"
)

// TestEachReconcilerRegistersTheIndexesItUses sets up each reconciler alone
// on its own manager: a lookup by an index that only the other one
// registers fails, and the reconciler never gets its work done. Both on
// one manager, in either order, must not conflict either.
func TestEachReconcilerRegistersTheIndexesItUses(t *testing.T) {
	env := testenv.StartT(t, testenv.Options{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	newManager := func(t *testing.T) ctrl.Manager { return newTestManager(t, env) }
	start := func(t *testing.T, mgr ctrl.Manager) { startManager(ctx, t, mgr) }
	recorder := drainedRecorder(t)
	create := func(t *testing.T, objs ...client.Object) {
		t.Helper()
		for _, o := range objs {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Fatalf("create %T %s: %v", o, o.GetName(), err)
			}
		}
	}
	identity := func(ns, name string) *podidv1.AzureIdentity {
		return &podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: "7c2a4f7e-3b1d-4c55-9a63-2f0e8d1b6a90", ResourceID: resourceID}}
	}
	binding := func(ns, name, id, sel string) *podidv1.AzureIdentityBinding {
		return &podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: id, Selector: sel}}
	}
	poll := func(t *testing.T, what string, ok func(ctx context.Context) bool) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			return ok(ctx), nil
		}); err != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
	}

	t.Run("the binding reconciler alone", func(t *testing.T) {
		mgr := newManager(t)
		if err := (&assign.BindingReconciler{Client: mgr.GetClient(), Recorder: recorder}).Setup(mgr); err != nil {
			t.Fatal(err)
		}
		start(t, mgr)
		ns := env.NewNamespace(t)
		// The binding first names a missing identity; creating it reaches
		// the binding through the identity index, and the selector index
		// lists the binding's peers.
		create(t, binding(ns, "b", "late", "app"))
		reason := func(ctx context.Context) string {
			var b podidv1.AzureIdentityBinding
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "b"}, &b); err != nil {
				return ""
			}
			if c := meta.FindStatusCondition(b.Status.Conditions, "Ready"); c != nil {
				return c.Reason
			}
			return ""
		}
		poll(t, "Ready=False/"+assign.ReasonIdentityNotFound, func(ctx context.Context) bool { return reason(ctx) == assign.ReasonIdentityNotFound })
		create(t, identity(ns, "late"))
		poll(t, "Ready=True/"+assign.ReasonBindingReady, func(ctx context.Context) bool { return reason(ctx) == assign.ReasonBindingReady })
	})

	t.Run("the assign reconciler alone", func(t *testing.T) {
		mgr := newManager(t)
		r := &assign.Reconciler{Client: mgr.GetClient(), Recorder: recorder, DefaultTokenMode: podidv1.TokenModeFederated}
		if err := r.Setup(ctx, mgr); err != nil {
			t.Fatal(err)
		}
		start(t, mgr)
		ns := env.NewNamespace(t)
		create(t, identity(ns, "id"), binding(ns, "b", "id", "app"))
		p := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: "p", Node: env.Nodes[0].Name, Labels: map[string]string{podidv1.SelectorLabel: "app"}})
		if err := env.CreatePods(ctx, []*corev1.Pod{p}, 1); err != nil {
			t.Fatal(err)
		}
		poll(t, "an Assigned assignment", func(ctx context.Context) bool {
			var list podidv1.AzureAssignedIdentityList
			if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
				return false
			}
			c := meta.FindStatusCondition(list.Items[0].Status.Conditions, assignstatus.ConditionReady)
			return c != nil && c.Reason == string(assignstatus.Assigned)
		})
	})

	t.Run("both on one manager, in either order", func(t *testing.T) {
		for _, bindingFirst := range []bool{true, false} {
			mgr := newManager(t)
			setups := []func() error{
				func() error { return (&assign.Reconciler{Client: mgr.GetClient(), Recorder: recorder}).Setup(ctx, mgr) },
				func() error {
					return (&assign.BindingReconciler{Client: mgr.GetClient(), Recorder: recorder}).Setup(mgr)
				},
			}
			if bindingFirst {
				setups[0], setups[1] = setups[1], setups[0]
			}
			for _, setup := range setups {
				if err := setup(); err != nil {
					t.Fatalf("binding reconciler first: %v: %v", bindingFirst, err)
				}
			}
		}
	})
}

package assign_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/testenv"
)

// TestAnAssignmentThatAppearsAfterItsPodIsGoneIsRemoved: an assignment can
// reach mic's cache after the deletion of its pod was reconciled (a create
// that timed out but landed, or, after an API server outage, the
// assignment watch catching up later than the pod watch; test/faults'
// TestAPIServerAndEtcdOutageUnderLoad left two such for good). No pod
// event follows, so the assignment's own arrival must have its pod looked
// at. Here it is written by hand for a pod that does not exist.
func TestAnAssignmentThatAppearsAfterItsPodIsGoneIsRemoved(t *testing.T) {
	env := testenv.StartT(t, testenv.Options{Nodes: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	startMIC(ctx, t, env)

	ns := env.NewNamespace(t)
	objs := []client.Object{
		&podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "id"},
			Spec: podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: "7c2a4f7e-3b1d-4c55-9a63-2f0e8d1b6a90", ResourceID: resourceID}},
		&podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"},
			Spec: podidv1.AzureIdentityBindingSpec{AzureIdentity: "id", Selector: "app"}},
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	p := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: "p", Node: env.Nodes[0].Name, Labels: map[string]string{podidv1.SelectorLabel: "app"}})
	if err := env.CreatePods(ctx, []*corev1.Pod{p}, 1); err != nil {
		t.Fatal(err)
	}
	// The real assignment of a real pod, as the model for the stray one.
	var real podidv1.AzureAssignedIdentity
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var list podidv1.AzureAssignedIdentityList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
			return false, nil
		}
		real = list.Items[0]
		c := meta.FindStatusCondition(real.Status.Conditions, assignstatus.ConditionReady)
		return c != nil && c.Reason == string(assignstatus.Assigned), nil
	}); err != nil {
		t.Fatalf("no Assigned assignment for pod p: %v", err)
	}

	stray := &podidv1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gone-" + real.Name, Labels: real.Labels},
		Spec:       *real.Spec.DeepCopy(),
		Status:     *real.Status.DeepCopy(),
	}
	stray.Spec.Pod = "gone"
	if err := env.Client.Create(ctx, stray); err != nil {
		t.Fatalf("create the stray assignment: %v", err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(stray), &podidv1.AzureAssignedIdentity{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("the assignment of pod gone, which does not exist, is still there after 30s: %v", err)
	}
	// The real one stays.
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(&real), &podidv1.AzureAssignedIdentity{}); err != nil {
		t.Errorf("the assignment of pod p: %v", err)
	}
}

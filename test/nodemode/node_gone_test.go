package nodemode

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/kwok"
)

// TestDeletedNodeReleasesItsIdentity deletes a node before its pod, as a
// scale-in or a failed VM's removal does, then the pod, as the pod garbage
// collector does for pods of a node that is gone. The pod's assignment
// recorded its machine while the node was there, so the identity still
// leaves the scale set and the assignment goes; before, the assignment
// kept its finalizer for ever (its namespace could not be deleted either)
// and the identity stayed on the scale set.
//
// Pool 5: no other test uses it.
func TestDeletedNodeReleasesItsIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const (
		pod, identity = "web-0", "many-17"
		pool          = 5
	)
	id := identityID(sharedRG, identity)
	node := env.Nodes[pool]
	ns := env.NewNamespace(t)
	t.Cleanup(func() {
		// Bring the node back for later runs, as it was.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(node), node.DeepCopy()); !apierrors.IsNotFound(err) {
			return
		}
		cidr, ip, err := kwok.Layout(pool)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kwok.CreateNode(ctx, env.Kube, kwok.NodeSpec{Name: node.Name, PodCIDR: cidr, InternalIP: ip, ProviderID: node.Spec.ProviderID}); err != nil {
			t.Errorf("create node %s again: %v", node.Name, err)
		}
	})
	bindIdentity(ctx, t, ns, identity, "web")
	runPod(ctx, t, ns, pod, pool, "web")
	waitStatuses(ctx, t, ns, 30*time.Second, identity+" Assigned AssignedToMachine")
	waitOnPool(ctx, t, pool, id, true)
	var list podidv1.AzureAssignedIdentityList
	if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
		t.Fatalf("list assignments: %v (%d)", err, len(list.Items))
	}
	if got := list.Items[0].Annotations[podidv1.MachineAnnotation]; !strings.EqualFold(got, vmssID(pool)) {
		t.Fatalf("the assignment recorded machine %q, want %s", got, vmssID(pool))
	}

	if err := env.Kube.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete node %s: %v", node.Name, err)
	}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := env.Kube.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("node %s is still there 30 s after its deletion", node.Name)
	}
	forceDeletePod(ctx, t, ns, pod)
	start := time.Now()
	waitStatuses(ctx, t, ns, 30*time.Second)
	waitOnPool(ctx, t, pool, id, false)
	t.Logf("node gone, pod deleted → assignment gone and identity off %s in %s", poolName(pool), time.Since(start).Round(time.Millisecond))
}

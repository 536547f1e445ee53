package nodemode

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSeed004RoleAssignments replays seed 004: without Virtual Machine
// Contributor the controller cannot read the VMSS, without Managed Identity
// Operator it cannot assign the identity, and each failure is reported on
// the pod with the command that fixes it. Once both roles are granted the
// identity lands on the VMSS; when the last pod goes, it leaves, and the
// kubelet identity never does.
func TestSeed004RoleAssignments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const pool = 0
	ns := env.NewNamespace(t)
	bindIdentity(ctx, t, ns, "seed", "kv-reader")
	runPod(ctx, t, ns, "reader", pool, "kv-reader")

	// Step 7 skipped: no Virtual Machine Contributor on the node resource group.
	waitStatuses(ctx, t, ns, 30*time.Second, "seed Created CloudRefused")
	wantEvent(ctx, t, ns, "reader", "AuthorizationFailed",
		`Microsoft.Compute/virtualMachineScaleSets/read on `+vmssID(pool)+`. Grant it with: az role assignment create --role "Virtual Machine Contributor" --assignee `+micObjectID+` --scope /subscriptions/`+subscriptionID+`/resourceGroups/`+nodeRG)

	if _, err := azure.GrantRole(micObjectID, "Virtual Machine Contributor", "/subscriptions/"+subscriptionID+"/resourceGroups/"+nodeRG); err != nil {
		t.Fatal(err)
	}
	// Step 3 skipped: no Managed Identity Operator on the identity.
	waitStatuses(ctx, t, ns, 30*time.Second, "seed Created CloudRefused")
	wantEvent(ctx, t, ns, "reader", "LinkedAuthorizationFailed",
		`az role assignment create --role "Managed Identity Operator" --assignee `+micObjectID)
	if onPool(pool, identityID(sharedRG, "seed")) {
		t.Fatal("the identity reached the VMSS without Managed Identity Operator")
	}

	if _, err := azure.GrantRole(micObjectID, "Managed Identity Operator", identityID(sharedRG, "seed")); err != nil {
		t.Fatal(err)
	}
	waitStatuses(ctx, t, ns, 30*time.Second, "seed Assigned AssignedToMachine")
	if !onPool(pool, identityID(sharedRG, "seed")) || !onPool(pool, identityID(nodeRG, kubeletName)) {
		t.Fatalf("VMSS identities %v, want the seed and kubelet identities", azure.MachineIdentities(poolName(pool)))
	}

	// The last pod goes: so does the identity, but not the kubelet's.
	if err := env.Kube.CoreV1().Pods(ns).Delete(ctx, "reader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitStatuses(ctx, t, ns, 30*time.Second)
	waitOnPool(ctx, t, pool, identityID(sharedRG, "seed"), false)
	if !onPool(pool, identityID(nodeRG, kubeletName)) {
		t.Fatalf("the kubelet identity left the VMSS: %v", azure.MachineIdentities(poolName(pool)))
	}
}

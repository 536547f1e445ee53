package nodemode

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud/faults"
)

func cmpStatus(a, b podidv1.AzureAssignedIdentity) string {
	return fmt.Sprintf("%+v then %+v", a.Status, b.Status)
}

// TestRetryAfterIsHonoured injects one 429 with Retry-After on the VMSS
// update and checks that the controller makes no call to that VMSS until
// the time it was given has passed, then finishes the assignment.
func TestRetryAfterIsHonoured(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const pool, retryAfter = 1, 3 * time.Second
	route := fmt.Sprintf("^arm [A-Z]+ .*/virtualMachineScaleSets/%s", poolName(pool))
	throttle, err := azure.Faults().Add(faults.Rule{Match: "^arm PATCH .*/virtualMachineScaleSets/" + poolName(pool), Times: 1, Status: 429, RetryAfter: int(retryAfter / time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	// A rule that changes nothing counts the calls after the 429.
	counter, err := azure.Faults().Add(faults.Rule{Match: route, Times: 1000, Latency: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { azure.Faults().Remove(throttle); azure.Faults().Remove(counter) })

	ns := env.NewNamespace(t)
	bindIdentity(ctx, t, ns, "throttled", "app")
	runPod(ctx, t, ns, "p", pool, "app")

	var throttledAt, nextCallAt time.Time
	callsAtThrottle := -1
	for nextCallAt.IsZero() && ctx.Err() == nil {
		rules := map[string]faults.Rule{}
		for _, r := range azure.Faults().List() {
			rules[r.ID] = r
		}
		now := time.Now()
		if _, pending := rules[throttle]; !pending && throttledAt.IsZero() {
			throttledAt, callsAtThrottle = now, rules[counter].Remaining
		} else if c := rules[counter]; !throttledAt.IsZero() && c.Remaining < callsAtThrottle {
			nextCallAt = now
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitStatuses(ctx, t, ns, 30*time.Second, "throttled Assigned AssignedToMachine")
	gap := nextCallAt.Sub(throttledAt)
	t.Logf("first call to %s came %s after the 429 (Retry-After %s)", poolName(pool), gap.Round(time.Millisecond), retryAfter)
	// Both times are sampled every 20 ms; allow that much on each side.
	if gap < retryAfter-50*time.Millisecond {
		t.Errorf("the controller called the VMSS %s after a 429 with Retry-After %s", gap, retryAfter)
	}
}

// TestOneRefusedIdentityDoesNotBlockNineteen binds twenty identities to one
// pod; the controller may assign nineteen of them. The nineteen land in one
// accepted PATCH, the twentieth waits with LinkedAuthorizationFailed.
func TestOneRefusedIdentityDoesNotBlockNineteen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const pool = 2
	ns := env.NewNamespace(t)
	var want []string
	for _, name := range userIdentities() {
		if !strings.HasPrefix(name, "many-") && name != "refused" {
			continue
		}
		bindIdentity(ctx, t, ns, name, "many")
		if name == "refused" {
			want = append(want, "refused Created CloudRefused")
		} else {
			want = append(want, name+" Assigned AssignedToMachine")
		}
	}
	before := azure.PatchCount(poolName(pool))
	runPod(ctx, t, ns, "p", pool, "many")
	waitStatuses(ctx, t, ns, 30*time.Second, want...)
	if got := len(azure.MachineIdentities(poolName(pool))); got != manyIdentities-1+1 {
		t.Errorf("VMSS has %d identities, want 19 plus the kubelet identity: %v", got, azure.MachineIdentities(poolName(pool)))
	}
	if onPool(pool, identityID(sharedRG, "refused")) {
		t.Error("the refused identity is on the VMSS")
	}
	if n := azure.PatchCount(poolName(pool)) - before; n != 1 {
		t.Errorf("%d accepted PATCHes for one burst of 20 identities, want 1", n)
	}
	wantEvent(ctx, t, ns, "p", "LinkedAuthorizationFailed", "Managed Identity Operator")
}

// TestDriftIsRepairedAndSteadyStateWritesNothing removes an assigned
// identity from the VMSS by hand, as an AKS upgrade did (aad-pod-identity
// #639), and expects the controller to put it back; with nothing to change
// it must not write at all.
func TestDriftIsRepairedAndSteadyStateWritesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const pool = 3
	ns := env.NewNamespace(t)
	bindIdentity(ctx, t, ns, "drift", "app")
	runPod(ctx, t, ns, "p", pool, "app")
	waitStatuses(ctx, t, ns, 30*time.Second, "drift Assigned AssignedToMachine")

	steady := azure.PatchCount(poolName(pool))
	var before podidv1.AzureAssignedIdentityList
	if err := env.Client.List(ctx, &before, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // two resync periods
	if n := azure.PatchCount(poolName(pool)) - steady; n != 0 {
		t.Errorf("%d PATCHes at steady state, want 0", n)
	}
	var after podidv1.AzureAssignedIdentityList
	if err := env.Client.List(ctx, &after, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if before.Items[0].ResourceVersion != after.Items[0].ResourceVersion {
		t.Errorf("the assignment was rewritten at steady state: %s", cmpStatus(before.Items[0], after.Items[0]))
	}

	if _, err := azure.SetMachineIdentities(poolName(pool), []string{identityID(nodeRG, kubeletName)}); err != nil {
		t.Fatal(err)
	}
	waitOnPool(ctx, t, pool, identityID(sharedRG, "drift"), true)
}

// TestServerErrorsAreWarnedAndRetried makes ARM answer the VMSS's GET with
// 503, then its PATCH with 500. Each shows on the assignment as Created,
// CloudUnavailable, and in a Warning event on the pod and the AzureIdentity
// whose reason is ARM's code; once the faults are gone the identity lands
// and the assignment is Assigned.
func TestServerErrorsAreWarnedAndRetried(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const pool = 4
	vmss := "/virtualMachineScaleSets/" + poolName(pool)
	get, err := azure.Faults().Add(faults.Rule{Match: "^arm GET .*" + vmss + "$", Status: 503})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { azure.Faults().Remove(get) })

	ns := env.NewNamespace(t)
	bindIdentity(ctx, t, ns, "flaky", "app")
	runPod(ctx, t, ns, "p", pool, "app")
	waitStatuses(ctx, t, ns, 30*time.Second, "flaky Created CloudUnavailable")
	wantEvent(ctx, t, ns, "p", "InternalServerError", "Azure answered 503 for "+poolName(pool))
	wantEvent(ctx, t, ns, "flaky", "InternalServerError", "Azure answered 503 for "+poolName(pool))

	patch, err := azure.Faults().Add(faults.Rule{Match: "^arm PATCH .*" + vmss + "$", Status: 500})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { azure.Faults().Remove(patch) })
	azure.Faults().Remove(get)
	wantEvent(ctx, t, ns, "p", "InternalServerError", "Azure answered 500 for "+poolName(pool))
	waitStatuses(ctx, t, ns, 30*time.Second, "flaky Created CloudUnavailable")
	if onPool(pool, identityID(sharedRG, "flaky")) {
		t.Fatal("the identity reached the VMSS through a PATCH answered 500")
	}

	azure.Faults().Remove(patch)
	waitStatuses(ctx, t, ns, 30*time.Second, "flaky Assigned AssignedToMachine")
	waitOnPool(ctx, t, pool, identityID(sharedRG, "flaky"), true)
}

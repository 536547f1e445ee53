package nodemode

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// bindIdentity creates an AzureIdentity for the named cloud identity and a
// binding with selector.
func bindIdentity(ctx context.Context, t *testing.T, ns, name, selector string) {
	t.Helper()
	id := &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: podidv1.AzureIdentitySpec{
			Type:       podidv1.UserAssignedMSI,
			ResourceID: identityID(sharedRG, name),
			ClientID:   clientIDOf(t, name),
		},
	}
	b := &podidv1.AzureIdentityBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-binding"},
		Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: name, Selector: selector},
	}
	for _, o := range []client.Object{id, b} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("create %s: %v", o.GetName(), err)
		}
	}
}

func clientIDOf(t *testing.T, name string) string {
	t.Helper()
	id, ok := azure.Identity(identityID(sharedRG, name))
	if !ok {
		t.Fatalf("no identity %s in the cloud", name)
	}
	return id.ClientID
}

func runPod(ctx context.Context, t *testing.T, ns, name string, pool int, selector string) {
	t.Helper()
	pod := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: name, Node: env.Nodes[pool].Name, Labels: map[string]string{podidv1.SelectorLabel: selector}})
	if err := env.Client.Create(ctx, pod); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
}

// waitStatuses waits until the namespace's assignments, summarised as
// "<identity> <status> <Ready reason>", equal want.
func waitStatuses(ctx context.Context, t *testing.T, ns string, timeout time.Duration, want ...string) {
	t.Helper()
	sort.Strings(want)
	var got []string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var list podidv1.AzureAssignedIdentityList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, nil
		}
		got = got[:0]
		for _, a := range list.Items {
			reason := ""
			if c := meta.FindStatusCondition(a.Status.Conditions, "Ready"); c != nil {
				reason = c.Reason
			}
			got = append(got, fmt.Sprintf("%s %s %s", a.Spec.AzureIdentityRef.Name, a.Status.Status, reason))
		}
		sort.Strings(got)
		return fmt.Sprint(got) == fmt.Sprint(want), nil
	})
	if err != nil {
		t.Fatalf("assignments in %s:\n  %s\nwant\n  %s", ns, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// onPool reports whether the named identity is on pool i's VMSS.
func onPool(i int, id string) bool {
	for _, have := range azure.MachineIdentities(poolName(i)) {
		if strings.EqualFold(have, id) {
			return true
		}
	}
	return false
}

func waitOnPool(ctx context.Context, t *testing.T, pool int, id string, want bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return onPool(pool, id) == want, nil
	})
	if err != nil {
		t.Fatalf("identity %s on %s = %v, want %v (VMSS has %v)", id, poolName(pool), !want, want, azure.MachineIdentities(poolName(pool)))
	}
}

func wantEvent(ctx context.Context, t *testing.T, ns, name, reason, text string) {
	t.Helper()
	if err := env.WaitForEvent(ctx, ns, name, reason, text, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

package agent

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// TestAnExemptPodPassesThroughToTheNodesIMDS: a pod an
// AzurePodIdentityException covers is not served by the agent but passed
// to the node's own IMDS, so its real client gets the kubelet identity the
// scale set carries.
func TestAnExemptPodPassesThroughToTheNodesIMDS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	create(ctx, t, &podidv1.AzurePodIdentityException{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tooling"},
		Spec:       podidv1.AzurePodIdentityExceptionSpec{PodLabels: map[string]string{"component": "tooling"}},
	})
	pod := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "tool", Node: s.env.Nodes[0].Name,
		Labels: map[string]string{"component": "tooling"}})
	kubelet := identityPrincipal(managedIdentity(t, kubeletIdentity))
	before := imdsRequests(t)

	res := freshResource("exempt")
	// Named by resource ID: node-mode tests may have added identities.
	tok, err := token(ctx, podCaller(t, pod).managedIdentity(t, azidentity.ResourceID(kubelet.resourceID), false), res)
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	checkToken(t, tok.Token, res, kubelet)
	if after := imdsRequests(t); after <= before {
		t.Errorf("node IMDS requests went from %v to %v; the exempt pod's request must reach it", before, after)
	}
}

// TestAPodWhoseBindingIsDeletedGetsNoMoreTokens: once mic removes the
// assignment, the agent stops serving the identity, even for a resource
// whose token it has cached.
func TestAPodWhoseBindingIsDeletedGetsNoMoreTokens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	id := managedIdentity(t, fedIdentity)
	create(ctx, t, azureIdentity(ns, "fed", id, ""), binding(ns, "b", "fed", "app"))
	pod := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "app", Node: s.env.Nodes[1].Name,
		Labels: map[string]string{podidv1.SelectorLabel: "app"}})
	c := podCaller(t, pod)
	path := tokenPath(freshResource("revoked"))
	if got := c.get(t, path, true); got.status != 200 {
		t.Fatalf("token while bound = %d %s", got.status, got.body)
	}

	if err := s.env.Client.Delete(ctx, binding(ns, "b", "fed", "app")); err != nil {
		t.Fatalf("delete binding: %v", err)
	}
	var got answer
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		got = c.get(t, path, true)
		return got.status != 200, nil
	})
	if err != nil {
		t.Fatalf("still served after the binding was deleted: %d %s", got.status, got.body)
	}
	want := imdsErrorBody(t, "invalid_request", "Identity not found: no identity is assigned to pod "+ns+
		"/app; check that its aadpodidbinding label matches an AzureIdentityBinding of an existing AzureIdentity")
	if got.status != 400 || got.body != want {
		t.Errorf("answer = %d %s\nwant     400 %s", got.status, got.body, want)
	}
}

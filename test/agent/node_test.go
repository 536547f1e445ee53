package agent

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// TestNodeModeRealClientsGetTheIdentityMICPutOnTheScaleSet: a managed
// identity annotated for node mode, bound to a pod on the second node. mic
// (as a service principal with Virtual Machine Contributor and Managed
// Identity Operator) adds it to the scale set; then the pod's real clients
// get its token, which the agent asked of the node's own IMDS.
func TestNodeModeRealClientsGetTheIdentityMICPutOnTheScaleSet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	id := managedIdentity(t, nodeIdentity)
	pod := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "app", Node: s.env.Nodes[1].Name,
		Labels: map[string]string{podidv1.SelectorLabel: "vm-app"}})
	c := podCaller(t, pod)
	create(ctx, t, azureIdentity(ns, "vm", id, podidv1.TokenModeNode), binding(ns, "vm-binding", "vm", "vm-app"))

	// Asked while mic is still at work, the agent holds the request until
	// the assignment is ready (or answers 503 with a Retry-After the client
	// honours, if that takes longer than its wait).
	res := freshResource("node-early")
	tok, err := token(ctx, c.managedIdentity(t, nil, false), res)
	if err != nil {
		t.Fatalf("token asked as soon as the pod ran: %v", err)
	}
	checkToken(t, tok.Token, res, identityPrincipal(id))
	waitAssigned(ctx, t, ns, pod.Name, "vm")
	if got := s.cloud.MachineIdentities(scaleSetID); !slices.ContainsFunc(got, func(x string) bool { return strings.EqualFold(x, id.ID) }) {
		t.Fatalf("assignment is Assigned but the scale set has identities %v, not %s", got, id.ID)
	}
	imdsBefore := imdsRequests(t)

	everyClientGetsTheIdentity(ctx, t, c, identityPrincipal(id))
	if got := imdsRequests(t); got <= imdsBefore {
		t.Errorf("node IMDS requests went from %v to %v; node mode must ask the node's IMDS", imdsBefore, got)
	}
}

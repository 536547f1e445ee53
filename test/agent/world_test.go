package agent

import (
	"context"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/testenv/netnode"
)

// Names in the test world.
const (
	tenantID       = "11111111-0000-0000-0000-000000000001"
	subscriptionID = "22222222-0000-0000-0000-000000000001"
	fedIdentity    = netnode.FedIdentity
	nodeIdentity   = "node-id"
	// kubeletIdentity is on the scale set from the start, as AKS puts it.
	kubeletIdentity = "kubelet"
	// wiIdentity trusts workload-identity pods' own tokens (workload_test.go).
	wiIdentity = "wi-id"
	micApp     = netnode.MICApp
	spApp      = "sp-app"
	spSecret   = "sp-secret-value"

	agentNamespace      = netnode.AgentNamespace
	agentServiceAccount = netnode.AgentServiceAccount
)

// testWorld is the cloud's world for n nodes: besides netnode's, a node
// identity mic may assign, the kubelet identity on the scale set, and a
// service principal.
func testWorld(n int) netnode.World {
	return netnode.World{
		File:               "agent-world.yaml",
		TenantID:           tenantID,
		SubscriptionID:     subscriptionID,
		Instances:          n,
		Identities:         []string{nodeIdentity, kubeletIdentity, wiIdentity},
		ScaleSetIdentities: []string{kubeletIdentity},
		Apps:               []netnode.App{{Name: spApp, Secret: spSecret}},
		RoleAssignments: []string{
			"{principal: " + micApp + ", role: Managed Identity Operator, scope: identity/" + nodeIdentity + "}",
		},
	}
}

// scaleSetID is the node pool's resource ID; nodes' providerIDs point at
// its instances.
var scaleSetID = testWorld(0).ScaleSetID()

// startCloud seeds the cloud with the test world for nodes nodes.
func startCloud(ctx context.Context, issuer, apiserverCAFile string, nodes int) (*cloud.Cloud, error) {
	return netnode.StartCloud(ctx, testWorld(nodes), issuer, apiserverCAFile)
}

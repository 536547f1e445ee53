package clients

import (
	"github.com/podid/podid/internal/testenv/netnode"
)

// Names in the test world, netnode's with this package's tenant.
const (
	tenantID       = "11111111-0000-0000-0000-000000000002"
	subscriptionID = "22222222-0000-0000-0000-000000000002"
	nodeGroup      = netnode.NodeGroup
	fedIdentity    = netnode.FedIdentity
)

// world is the cloud's world: netnode's, with one scale-set instance.
var world = netnode.World{
	File:           "clients-world.yaml",
	TenantID:       tenantID,
	SubscriptionID: subscriptionID,
	Instances:      1,
	// az login --identity lists the subscriptions the identity can see and
	// refuses to log in without one; Reader on the node group is enough.
	RoleAssignments: []string{"{principal: " + fedIdentity + ", role: Reader, scope: resourceGroup/" + nodeGroup + "}"},
}

package faults

import (
	"github.com/podid/podid/internal/testenv/netnode"
)

// Names in the test world, as in test/agent.
const (
	tenantID    = "11111111-0000-0000-0000-000000000001"
	fedIdentity = netnode.FedIdentity
)

// world is the cloud's world: netnode's (one identity federated with the
// agent's service account, and mic's application) with one scale-set
// instance.
var world = netnode.World{
	File:           "faults-world.yaml",
	TenantID:       tenantID,
	SubscriptionID: "22222222-0000-0000-0000-000000000001",
	Instances:      1,
}

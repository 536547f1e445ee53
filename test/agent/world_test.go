package agent

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
)

// Names in the test world.
const (
	tenantID       = "11111111-0000-0000-0000-000000000001"
	subscriptionID = "22222222-0000-0000-0000-000000000001"
	nodeGroup      = "MC_podid"
	scaleSetName   = "nodepool"
	fedIdentity    = "fed-id"
	nodeIdentity   = "node-id"
	// kubeletIdentity is on the scale set from the start, as AKS puts it.
	kubeletIdentity = "kubelet"
	micApp          = "mic"
	micSecret       = "mic-secret-value"
	spApp           = "sp-app"
	spSecret        = "sp-secret-value"

	agentNamespace      = "podid-system"
	agentServiceAccount = "podid-nmi"
)

// scaleSetID is the node pool's resource ID; nodes' providerIDs point at
// its instances.
const scaleSetID = "/subscriptions/" + subscriptionID + "/resourceGroups/" + nodeGroup +
	"/providers/Microsoft.Compute/virtualMachineScaleSets/" + scaleSetName

// worldTemplate seeds the cloud. %[1]s is the cluster's service-account
// issuer, %[2]s the agent's subject, %[3]d the node count.
const worldTemplate = `
tenants:
  - id: ` + tenantID + `
    name: podid
    subscriptions:
      - id: ` + subscriptionID + `
        name: aks
        resourceGroups:
          - name: ` + nodeGroup + `
            identities:
              - name: ` + fedIdentity + `
                federatedCredentials:
                  - name: cluster
                    issuer: %[1]s
                    subject: %[2]s
                    audiences: [api://AzureADTokenExchange]
              - name: ` + nodeIdentity + `
              - name: ` + kubeletIdentity + `
            scaleSets:
              - name: ` + scaleSetName + `
                capacity: %[3]d
                identities: [` + kubeletIdentity + `]
    applications:
      - name: ` + micApp + `
        secrets: [{value: ` + micSecret + `}]
      - name: ` + spApp + `
        secrets: [{value: ` + spSecret + `}]
    roleAssignments:
      - {principal: ` + micApp + `, role: Virtual Machine Contributor, scope: resourceGroup/` + nodeGroup + `}
      - {principal: ` + micApp + `, role: Managed Identity Operator, scope: identity/` + nodeIdentity + `}
`

// agentSubject is the subject of the agent's service-account tokens.
func agentSubject() string {
	return "system:serviceaccount:" + agentNamespace + ":" + agentServiceAccount
}

// startCloud seeds the cloud with the test world, trusting the apiserver's
// CA so it can read the cluster's issuer keys.
func startCloud(ctx context.Context, issuer, apiserverCAFile string, nodes int) (*cloud.Cloud, error) {
	w, err := world.Parse("agent-world.yaml", []byte(fmt.Sprintf(worldTemplate, issuer, agentSubject(), nodes)))
	if err != nil {
		return nil, fmt.Errorf("parse test world: %w", err)
	}
	st, err := w.State()
	if err != nil {
		return nil, fmt.Errorf("build test world: %w", err)
	}
	ca, err := os.ReadFile(apiserverCAFile)
	if err != nil {
		return nil, fmt.Errorf("read apiserver CA: %w", err)
	}
	c, err := cloud.Start(ctx, cloud.Options{Seed: st, TrustedCAs: [][]byte{ca}})
	if err != nil {
		return nil, fmt.Errorf("start cloud: %w", err)
	}
	return c, nil
}

// instanceIMDS returns the IMDS URL of scale-set instance i.
func instanceIMDS(c *cloud.Cloud, i int) (string, error) {
	name := fmt.Sprintf("%s_%d", scaleSetName, i)
	for _, in := range c.Instances() {
		if strings.EqualFold(in.Name, name) {
			return in.IMDSURL, nil
		}
	}
	return "", fmt.Errorf("no IMDS listener for instance %s", name)
}

package faults

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
)

// Names in the test world, as in test/agent.
const (
	tenantID       = "11111111-0000-0000-0000-000000000001"
	subscriptionID = "22222222-0000-0000-0000-000000000001"
	nodeGroup      = "MC_podid"
	scaleSetName   = "nodepool"
	fedIdentity    = "fed-id"
	micApp         = "mic"
	micSecret      = "mic-secret-value"

	agentNamespace      = "podid-system"
	agentServiceAccount = "podid-nmi"
)

// worldTemplate seeds the cloud: one identity federated with the agent's
// service account, one scale-set instance, and mic's application. %[1]s is
// the cluster's service-account issuer, %[2]s the agent's subject.
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
            scaleSets:
              - name: ` + scaleSetName + `
                capacity: 1
    applications:
      - name: ` + micApp + `
        secrets: [{value: ` + micSecret + `}]
    roleAssignments:
      - {principal: ` + micApp + `, role: Virtual Machine Contributor, scope: resourceGroup/` + nodeGroup + `}
`

// startCloud seeds the cloud with the test world, trusting the apiserver's
// CA so it can read the cluster's issuer keys.
func startCloud(ctx context.Context, issuer, apiserverCAFile string) (*cloud.Cloud, error) {
	subject := "system:serviceaccount:" + agentNamespace + ":" + agentServiceAccount
	w, err := world.Parse("faults-world.yaml", []byte(fmt.Sprintf(worldTemplate, issuer, subject)))
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

// instanceIMDS returns the IMDS URL of the scale set's only instance.
func instanceIMDS(c *cloud.Cloud) (string, error) {
	for _, in := range c.Instances() {
		if strings.EqualFold(in.Name, scaleSetName+"_0") {
			return in.IMDSURL, nil
		}
	}
	return "", fmt.Errorf("no IMDS listener for instance %s_0", scaleSetName)
}

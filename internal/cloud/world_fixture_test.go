package cloud_test

import (
	"testing"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

const (
	tenantID  = "2e319086-9a26-46a3-865f-615bed576786"
	nodeSub   = "7e242177-ef0b-431f-8c76-e40907843aa7"
	nodeRG    = "MC_rg"
	sharedRG  = "rg-shared"
	vmssName  = "aks-nodepool1-vmss"
	kubeletID = "aaaaaaaa-0000-0000-0000-00000000000a"
	micOID    = "b9276f33-e80c-4f09-9cdf-24c28c0feea4"
)

// testWorld is seed 004 in miniature: a node-pool VMSS with a kubelet
// identity, the cluster (MIC) identity, a user identity, vaults in both
// modes, and service principals with current and expired secrets.
const testWorld = `
tenants:
  - id: ` + tenantID + `
    name: contoso
    subscriptions:
      - id: ` + nodeSub + `
        name: aks
        resourceGroups:
          - name: ` + nodeRG + `
            location: westus2
            identities:
              - name: kubelet
                clientId: ` + kubeletID + `
              - name: cluster
                principalId: ` + micOID + `
            scaleSets:
              - name: ` + vmssName + `
                capacity: 2
                identities: [kubelet]
            virtualMachines:
              - name: jumpbox
                systemAssigned: true
          - name: ` + sharedRG + `
            location: westus2
            identities:
              - name: app-identity
              - name: other-identity
            vaults:
              - name: kv-rbac
                secrets:
                  - name: db-password
                    value: s3cr3t
              - name: kv-policy
                mode: accessPolicy
                accessPolicies:
                  - principal: app-identity
                    secrets: [get]
                secrets:
                  - name: grafana-admin
                    value: admin
    applications:
      - name: deployer
        secrets:
          - value: good-secret
            endDate: 2099-01-01T00:00:00Z
      - name: expired-sp
        secrets:
          - value: old-secret
            endDate: 2021-12-16T00:00:00Z
    roleAssignments:
      - principal: deployer
        role: Owner
        scope: subscription/aks
`

func startWorld(t testing.TB) *cloudtest.Env {
	t.Helper()
	return cloudtest.StartYAML(t, testWorld)
}

package nodemode

import (
	"fmt"
	"strings"
)

// Fixed IDs of the test world.
const (
	tenantID       = "2e319086-9a26-46a3-865f-615bed576786"
	subscriptionID = "7e242177-ef0b-431f-8c76-e40907843aa7"
	nodeRG         = "MC_podid_nodemode_westus2"
	sharedRG       = "rg-shared"
	micAppID       = "b9276f33-e80c-4f09-9cdf-24c28c0feea4"
	micObjectID    = "0c6d3d6b-8f3e-4b1f-9a3e-5d2f4c1b7a90"
	micSecret      = "mic-secret-value"
	kubeletName    = "nodepool-agentpool"
	pools          = 6 // one VMSS per test, so tests cannot disturb each other
)

func poolName(i int) string { return fmt.Sprintf("aks-pool%d-vmss", i) }

func identityID(rg, name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s", subscriptionID, rg, name)
}

func vmssID(i int) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachineScaleSets/%s", subscriptionID, nodeRG, poolName(i))
}

// manyIdentities is how many identities the isolation test binds to one pod.
const manyIdentities = 20

// worldYAML builds the cloud: one-instance node pools sharing a kubelet
// identity, user identities in a shared group, and mic's service principal.
// mic may manage every pool but pool 0 and assign every identity except
// "refused" and "seed"; pool 0 and the seed identity start with no roles, as
// in seed 004.
func worldYAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `tenants:
  - id: %s
    name: contoso
    subscriptions:
      - id: %s
        name: aks
        resourceGroups:
          - name: %s
            location: westus2
            identities:
              - name: %s
            scaleSets:
`, tenantID, subscriptionID, nodeRG, kubeletName)
	for i := 0; i < pools; i++ {
		fmt.Fprintf(&b, "              - {name: %s, capacity: 1, identities: [%s]}\n", poolName(i), kubeletName)
	}
	fmt.Fprintf(&b, "          - name: %s\n            location: westus2\n            identities:\n", sharedRG)
	for _, n := range userIdentities() {
		fmt.Fprintf(&b, "              - name: %s\n", n)
	}
	fmt.Fprintf(&b, `    applications:
      - name: podid-mic
        appId: %s
        objectId: %s
        secrets: [{value: %s, endDate: 2099-01-01T00:00:00Z}]
    roleAssignments:
`, micAppID, micObjectID, micSecret)
	for i := 1; i < pools; i++ {
		fmt.Fprintf(&b, "      - {principal: podid-mic, role: Virtual Machine Contributor, scope: scaleSet/%s}\n", poolName(i))
	}
	for _, n := range userIdentities() {
		if n == "refused" || n == "seed" {
			continue
		}
		fmt.Fprintf(&b, "      - {principal: podid-mic, role: Managed Identity Operator, scope: identity/%s}\n", n)
	}
	return b.String()
}

func userIdentities() []string {
	out := []string{"seed", "throttled", "drift", "refused", "flaky"}
	for i := 0; i < manyIdentities-1; i++ {
		out = append(out, fmt.Sprintf("many-%02d", i))
	}
	return out
}

package doctor

import (
	"testing"

	podidv1 "github.com/podid/podid/api/v1"
)

func TestIdentityFields(t *testing.T) {
	nodeMode := facts(msi("ns", "id", func(id *podidv1.AzureIdentity) { id.Spec.ResourceID = "" }))
	nodeMode.Settings.TokenMode = podidv1.TokenModeNode
	runCases(t, "identity-fields", map[string]checkCase{
		"well-formed identities of each type pass": {
			facts: facts(msi("ns", "a"), sp("ns", "b", podidv1.ServicePrincipal, "s"), sp("ns", "c", podidv1.ServicePrincipalCertificate, "s")),
			want:  []want{{status: Pass, message: "3 AzureIdentities have every field"}},
		},
		"a resource ID of another resource type breaks the CRD's rule": {
			facts: facts(msi("ns", "id", func(id *podidv1.AzureIdentity) {
				id.Spec.ResourceID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
			})),
			want: []want{{status: Fail, object: "AzureIdentity ns/id", message: "spec.resourceID is wrong", fix: "kubectl -n ns edit azureidentity id"}},
		},
		"a client ID that is not a GUID breaks the CRD's rule": {
			facts: facts(msi("ns", "id", func(id *podidv1.AzureIdentity) { id.Spec.ClientID = "my-client" })),
			want:  []want{{status: Fail, object: "AzureIdentity ns/id", message: "spec.clientID is wrong", fix: "kubectl -n ns edit azureidentity id"}},
		},
		"a type out of range is named": {
			facts: facts(msi("ns", "id", func(id *podidv1.AzureIdentity) { id.Spec.Type = 3 })),
			want:  []want{{status: Fail, object: "AzureIdentity ns/id", message: "spec.type is wrong", fix: "kubectl -n ns edit azureidentity id"}},
		},
		"a service principal without tenant and Secret lists both": {
			facts: facts(&podidv1.AzureIdentity{ObjectMeta: objMeta("ns", "sp"), Spec: podidv1.AzureIdentitySpec{Type: podidv1.ServicePrincipal, ClientID: testClientID}}),
			want: []want{{status: Fail, object: "AzureIdentity ns/sp", message: "spec.tenantID, spec.clientPassword.name are wrong",
				fix: "kubectl -n ns edit azureidentity sp"}},
		},
		"a managed identity without resource ID fails only in node mode": {
			facts: nodeMode,
			want:  []want{{status: Fail, object: "AzureIdentity ns/id", message: "spec.resourceID is wrong", fix: "kubectl -n ns edit azureidentity id"}},
		},
	})
}

func TestIdentityFormatRulesComeFromPodidsCRD(t *testing.T) {
	rules, err := identityFormatRules()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range rules {
		got[r.field] = true
		if r.after == "" {
			t.Errorf("rule of spec.%s: its messageExpression was not read", r.field)
		}
	}
	if !got["clientID"] || !got["resourceID"] {
		t.Fatalf("rules for %v, want clientID and resourceID", got)
	}
	id := msi("ns", "id", func(id *podidv1.AzureIdentity) { id.Spec.ClientID = "x" })
	p := rules.problems(id)
	if len(p) != 1 || p[0].Message != `"x" is not a client ID; use the identity's client ID, a GUID such as 00000000-0000-0000-0000-000000000000 (az identity show -g <group> -n <name> --query clientId)` {
		t.Fatalf("problems %v, want the CRD's own message for spec.clientID", p)
	}
}

package cloudassign

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

func TestIdentityType(t *testing.T) {
	cases := map[string]struct {
		change Change
		want   string
	}{
		"user-assigned only":                         {Change{UserAssignedAfter: 2}, TypeUser},
		"a system-assigned identity is declared":     {Change{SystemAssigned: true, UserAssignedAfter: 1}, TypeSystemAndUser},
		"the last user identity leaves a system one": {Change{SystemAssigned: true}, TypeSystem},
		"the last user identity leaves nothing":      {Change{}, TypeNone},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.change.IdentityType(); got != tc.want {
				t.Fatalf("IdentityType() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSystemAssignedIdentitySurvives adds and removes a user-assigned
// identity on scale sets of the embedded cloud, which applies a PATCH's
// declared type as ARM does: a machine's system-assigned identity must
// survive both, and a machine without one ends with none.
func TestSystemAssignedIdentitySurvives(t *testing.T) {
	e := cloudtest.StartYAML(t, `
tenants:
  - id: 2e319086-9a26-46a3-865f-615bed576786
    name: contoso
    subscriptions:
      - id: 7e242177-ef0b-431f-8c76-e40907843aa7
        resourceGroups:
          - name: mc
            identities: [{name: app}, {name: kubelet}]
            scaleSets:
              - {name: with-system, capacity: 1, systemAssigned: true, identities: []}
              - {name: without-system, capacity: 1, identities: []}
    applications:
      - name: mic
        secrets: [{value: mic-secret}]
    roleAssignments:
      - {principal: mic, role: Virtual Machine Contributor, scope: resourceGroup/mc}
      - {principal: mic, role: Managed Identity Operator, scope: resourceGroup/mc}
`)
	app, ok := e.Cloud.Application("mic")
	if !ok {
		t.Fatal("application mic missing")
	}
	cred, err := azidentity.NewClientSecretCredential(e.TenantID, app.AppID, "mic-secret",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: e.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	m := NewARMMachines(cred, arm.ClientOptions{ClientOptions: e.ClientOptions()})
	appID := "/subscriptions/" + e.SubscriptionID + "/resourceGroups/mc/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app"
	ctx := context.Background()
	for _, tc := range []struct {
		scaleSet string
		system   bool
	}{{"with-system", true}, {"without-system", false}} {
		t.Run(tc.scaleSet, func(t *testing.T) {
			target := Target{Subscription: e.SubscriptionID, ResourceGroup: "mc", Name: tc.scaleSet, ScaleSet: true}
			before, err := m.Identities(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			if before.SystemAssigned != tc.system {
				t.Fatalf("system-assigned %v before any change, want %v", before.SystemAssigned, tc.system)
			}
			for _, step := range []struct {
				name   string
				change Change
				users  int
			}{
				{"add", Change{Add: []string{appID}, SystemAssigned: before.SystemAssigned, UserAssignedAfter: 1}, 1},
				{"remove the last", Change{Remove: []string{appID}, SystemAssigned: before.SystemAssigned}, 0},
			} {
				if err := m.Update(ctx, target, step.change); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				got, err := m.Identities(ctx, target)
				if err != nil {
					t.Fatal(err)
				}
				if got.SystemAssigned != tc.system || len(got.UserAssigned) != step.users {
					t.Fatalf("after %s: system-assigned %v, user-assigned %v; want %v and %d", step.name, got.SystemAssigned, got.UserAssigned, tc.system, step.users)
				}
			}
		})
	}
}

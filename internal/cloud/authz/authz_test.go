package authz

import "testing"

const (
	sub   = "/subscriptions/00000000-0000-0000-0000-000000000001"
	rg    = sub + "/resourceGroups/MC_rg"
	vmss  = rg + "/providers/Microsoft.Compute/virtualMachineScaleSets/aks-vmss"
	ident = sub + "/resourceGroups/shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id"
	vault = rg + "/providers/Microsoft.KeyVault/vaults/kv1"
	alice = "11111111-1111-1111-1111-111111111111"
	bob   = "22222222-2222-2222-2222-222222222222"
)

func TestAuthorize(t *testing.T) {
	defs := Builtins()
	assign := func(principal, role, scope string) Assignment {
		return Assignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/x", Scope: scope, PrincipalID: principal,
			RoleDefinitionID: sub + "/providers/Microsoft.Authorization/roleDefinitions/" + role}
	}
	cases := map[string]struct {
		assignments []Assignment
		req         Request
		allowed     bool
		reason      string
	}{
		"no assignment at all is denied with no valid RBAC": {
			req: Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachineScaleSets/read", Scope: vmss}, reason: ReasonNoAssignment},
		"Reader on the resource group inherits to the VMSS": {
			assignments: []Assignment{assign(alice, ReaderID, rg)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachineScaleSets/read", Scope: vmss}, allowed: true, reason: ReasonGranted},
		"Reader cannot write": {
			assignments: []Assignment{assign(alice, ReaderID, rg)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachineScaleSets/write", Scope: vmss}, reason: ReasonNotPermitted},
		"an assignment on a sibling scope does not apply": {
			assignments: []Assignment{assign(alice, OwnerID, sub+"/resourceGroups/MC_rg2")},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachineScaleSets/read", Scope: vmss}, reason: ReasonNoAssignment},
		"an assignment below the scope does not apply upwards": {
			assignments: []Assignment{assign(alice, OwnerID, vmss)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Resources/subscriptions/resourceGroups/read", Scope: rg}, reason: ReasonNoAssignment},
		"another principal's assignment does not apply": {
			assignments: []Assignment{assign(bob, OwnerID, sub)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachineScaleSets/read", Scope: vmss}, reason: ReasonNoAssignment},
		"scopes compare case-insensitively": {
			assignments: []Assignment{assign(alice, VirtualMachineContribID, "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/resourcegroups/mc_RG")},
			req:         Request{PrincipalID: alice, Action: "microsoft.compute/virtualmachinescalesets/WRITE", Scope: vmss}, allowed: true, reason: ReasonGranted},
		"Virtual Machine Contributor cannot assign identities": {
			assignments: []Assignment{assign(alice, VirtualMachineContribID, sub)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", Scope: ident}, reason: ReasonNotPermitted},
		"Managed Identity Operator may assign through the wildcard in the middle": {
			assignments: []Assignment{assign(alice, ManagedIdentityOperatorID, sub+"/resourceGroups/shared")},
			req:         Request{PrincipalID: alice, Action: "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", Scope: ident}, allowed: true, reason: ReasonGranted},
		"Contributor's notActions forbid writing role assignments": {
			assignments: []Assignment{assign(alice, ContributorID, sub)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Authorization/roleAssignments/write", Scope: rg}, reason: ReasonNotPermitted},
		"Contributor may write a VMSS": {
			assignments: []Assignment{assign(alice, ContributorID, sub)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachineScaleSets/write", Scope: vmss}, allowed: true, reason: ReasonGranted},
		"Owner has no data actions": {
			assignments: []Assignment{assign(alice, OwnerID, sub)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.KeyVault/vaults/secrets/getSecret/action", DataAction: true, Scope: vault + "/secrets/s"}, reason: ReasonNotPermitted},
		"Key Vault Secrets User reads secrets through dataActions": {
			assignments: []Assignment{assign(alice, KeyVaultSecretsUserID, vault)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.KeyVault/vaults/secrets/getSecret/action", DataAction: true, Scope: vault + "/secrets/s"}, allowed: true, reason: ReasonGranted},
		"Key Vault Secrets User cannot set secrets": {
			assignments: []Assignment{assign(alice, KeyVaultSecretsUserID, vault)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.KeyVault/vaults/secrets/setSecret/action", DataAction: true, Scope: vault + "/secrets/s"}, reason: ReasonNotPermitted},
		"Key Vault Secrets Officer sets secrets through a data wildcard": {
			assignments: []Assignment{assign(alice, KeyVaultSecretsOfficerID, vault)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.KeyVault/vaults/secrets/setSecret/action", DataAction: true, Scope: vault + "/secrets/s"}, allowed: true, reason: ReasonGranted},
		"an unknown role definition grants nothing": {
			assignments: []Assignment{assign(alice, "99999999-9999-9999-9999-999999999999", sub)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachineScaleSets/read", Scope: vmss}, reason: ReasonNotPermitted},
		"a second assignment can grant what the first does not": {
			assignments: []Assignment{assign(alice, ReaderID, sub), assign(alice, AcrPullID, rg)},
			req:         Request{PrincipalID: alice, Action: "Microsoft.ContainerRegistry/registries/pull/read", Scope: rg + "/providers/Microsoft.ContainerRegistry/registries/r"}, allowed: true, reason: ReasonGranted},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Authorize(tc.req, tc.assignments, defs)
			if got.Allowed != tc.allowed || got.Reason != tc.reason {
				t.Fatalf("Authorize = %+v, want allowed=%v reason=%s", got, tc.allowed, tc.reason)
			}
		})
	}
}

func TestMatchAction(t *testing.T) {
	cases := map[string]struct {
		pattern, action string
		want            bool
	}{
		"star matches everything":               {"*", "Microsoft.Compute/virtualMachines/read", true},
		"star slash read matches any read":      {"*/read", "Microsoft.Compute/virtualMachines/read", true},
		"star slash read does not match write":  {"*/read", "Microsoft.Compute/virtualMachines/write", false},
		"provider wildcard":                     {"Microsoft.Compute/*", "microsoft.compute/disks/delete", true},
		"provider wildcard is provider-bounded": {"Microsoft.Compute/*", "Microsoft.ComputeX/disks/delete", false},
		"middle wildcard":                       {"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", true},
		"exact":                                 {"Microsoft.Storage/storageAccounts/read", "Microsoft.Storage/storageAccounts/read", true},
		"exact prefix is not a match":           {"Microsoft.Storage/storageAccounts/read", "Microsoft.Storage/storageAccounts/readX", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := MatchAction(tc.pattern, tc.action); got != tc.want {
				t.Fatalf("MatchAction(%q, %q) = %v", tc.pattern, tc.action, got)
			}
		})
	}
}

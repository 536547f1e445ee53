package authz

import "strings"

// Built-in role definition IDs, as in every Azure tenant.
const (
	OwnerID                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	ContributorID             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	ReaderID                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	ManagedIdentityOperatorID = "f1a07417-d97a-45cb-824c-7a7467783830"
	VirtualMachineContribID   = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
	AcrPullID                 = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	AcrPushID                 = "8311e382-0749-4cb8-b61a-304f252e45ec"
	KeyVaultSecretsUserID     = "4633458b-17de-408a-b874-0445c86b69e6"
	KeyVaultSecretsOfficerID  = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
	KeyVaultAdministratorID   = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
	StorageBlobDataReaderID   = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
	UserAccessAdministratorID = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	// RepositoryReaderID is "Container Registry Repository Reader", the
	// pull role of registries in ABAC (rbac-abac) mode.
	RepositoryReaderID = "b93aa761-3e63-49ed-ac28-beffa264f7ac"
)

// Builtins returns the built-in role definitions keyed by lower-case GUID.
func Builtins() map[string]RoleDefinition {
	defs := []RoleDefinition{
		{ID: OwnerID, RoleName: "Owner", Description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
			Permissions: []Permission{{Actions: []string{"*"}}}},
		{ID: ContributorID, RoleName: "Contributor", Description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
			Permissions: []Permission{{Actions: []string{"*"}, NotActions: []string{
				"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
				"Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete",
				"Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
				"Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action",
			}}}},
		{ID: ReaderID, RoleName: "Reader", Description: "View all resources, but does not allow you to make any changes.",
			Permissions: []Permission{{Actions: []string{"*/read"}}}},
		{ID: UserAccessAdministratorID, RoleName: "User Access Administrator", Description: "Lets you manage user access to Azure resources.",
			Permissions: []Permission{{Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}}}},
		{ID: ManagedIdentityOperatorID, RoleName: "Managed Identity Operator", Description: "Read and Assign User Assigned Identity",
			Permissions: []Permission{{Actions: []string{
				"Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
				"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
				"Microsoft.Resources/deployments/*", "Microsoft.Support/*",
			}}}},
		{ID: VirtualMachineContribID, RoleName: "Virtual Machine Contributor", Description: "Create and manage virtual machines, manage disks, install and run software, reset password of the root user of the virtual machine using VM extensions, and manage local user accounts using VM extensions. This role does not grant you management access to the virtual network or storage account the virtual machines are connected to. This role does not allow you to assign roles in Azure RBAC.",
			Permissions: []Permission{{Actions: []string{
				"Microsoft.Authorization/*/read", "Microsoft.Compute/availabilitySets/*", "Microsoft.Compute/locations/*",
				"Microsoft.Compute/virtualMachines/*", "Microsoft.Compute/virtualMachineScaleSets/*", "Microsoft.Compute/cloudServices/*",
				"Microsoft.Compute/disks/write", "Microsoft.Compute/disks/read", "Microsoft.Compute/disks/delete",
				"Microsoft.DevTestLab/schedules/*", "Microsoft.Insights/alertRules/*",
				"Microsoft.Network/applicationGateways/backendAddressPools/join/action", "Microsoft.Network/loadBalancers/backendAddressPools/join/action",
				"Microsoft.Network/loadBalancers/inboundNatPools/join/action", "Microsoft.Network/loadBalancers/inboundNatRules/join/action",
				"Microsoft.Network/loadBalancers/probes/join/action", "Microsoft.Network/loadBalancers/read", "Microsoft.Network/locations/*",
				"Microsoft.Network/networkInterfaces/*", "Microsoft.Network/networkSecurityGroups/join/action", "Microsoft.Network/networkSecurityGroups/read",
				"Microsoft.Network/publicIPAddresses/join/action", "Microsoft.Network/publicIPAddresses/read", "Microsoft.Network/virtualNetworks/read",
				"Microsoft.Network/virtualNetworks/subnets/join/action", "Microsoft.RecoveryServices/locations/*",
				"Microsoft.ResourceHealth/availabilityStatuses/read", "Microsoft.Resources/deployments/*",
				"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.SerialConsole/serialPorts/connect/action",
				"Microsoft.SqlVirtualMachine/*", "Microsoft.Storage/storageAccounts/listKeys/action", "Microsoft.Storage/storageAccounts/read",
				"Microsoft.Support/*",
			}}}},
		{ID: AcrPullID, RoleName: "AcrPull", Description: "acr pull",
			Permissions: []Permission{{Actions: []string{"Microsoft.ContainerRegistry/registries/pull/read"}}}},
		{ID: AcrPushID, RoleName: "AcrPush", Description: "acr push",
			Permissions: []Permission{{Actions: []string{"Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/push/write"}}}},
		{ID: RepositoryReaderID, RoleName: "Container Registry Repository Reader", Description: "Allows for read access to Azure Container Registry repositories, but excluding catalog listing.",
			Permissions: []Permission{{DataActions: []string{"Microsoft.ContainerRegistry/registries/repositories/content/read", "Microsoft.ContainerRegistry/registries/repositories/metadata/read"}}}},
		{ID: KeyVaultSecretsUserID, RoleName: "Key Vault Secrets User", Description: "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permissions: []Permission{{DataActions: []string{"Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"}}}},
		{ID: KeyVaultSecretsOfficerID, RoleName: "Key Vault Secrets Officer", Description: "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permissions: []Permission{{Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
				"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*", "Microsoft.KeyVault/checkNameAvailability/read",
				"Microsoft.KeyVault/deletedVaults/read", "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read"},
				DataActions: []string{"Microsoft.KeyVault/vaults/secrets/*"}}}},
		{ID: KeyVaultAdministratorID, RoleName: "Key Vault Administrator", Description: "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permissions: []Permission{{Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
				"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*", "Microsoft.KeyVault/checkNameAvailability/read",
				"Microsoft.KeyVault/deletedVaults/read", "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read"},
				DataActions: []string{"Microsoft.KeyVault/vaults/*"}}}},
		{ID: StorageBlobDataReaderID, RoleName: "Storage Blob Data Reader", Description: "Allows for read access to Azure Storage blob containers and data",
			Permissions: []Permission{{Actions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/read", "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"},
				DataActions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"}}}},
	}
	defs = append(defs, aksRoles()...)
	out := make(map[string]RoleDefinition, len(defs))
	for _, d := range defs {
		out[strings.ToLower(d.ID)] = d
	}
	return out
}

// LookupRole finds a built-in role by GUID or by role name (case-insensitive).
func LookupRole(defs map[string]RoleDefinition, nameOrID string) (RoleDefinition, bool) {
	if d, ok := defs[strings.ToLower(RoleDefinitionGUID(nameOrID))]; ok {
		return d, true
	}
	for _, d := range defs {
		if strings.EqualFold(d.RoleName, nameOrID) {
			return d, true
		}
	}
	return RoleDefinition{}, false
}

// Package cloud is podid's embedded Azure identity plane: a local, strict
// emulation of Azure AD (v2 token endpoint, OIDC discovery, JWKS), the
// Instance Metadata Service managed-identity endpoint (one plain-HTTP listener
// per VM or VMSS instance), an Azure Resource Manager subset (resource groups,
// user-assigned identities and their federated credentials, VMSS/VM
// identities, role definitions and assignments with real RBAC checks) and Key
// Vault secrets (one HTTPS listener per vault), and Container Registry:
// Microsoft.ContainerRegistry/registries in ARM and, at <name>.azurecr.io,
// ACR's token protocol and errors in front of a real OCI registry (package
// acr holds its decisions). ServeAzureNames also answers Azure's own host
// names (login.microsoftonline.com, management.azure.com,
// <vault>.vault.azure.net, <registry>.azurecr.io) on one TLS listener, for
// pods of real nodes that reach the cloud by those names through package
// clusterdns; RegistryTransport reaches the same front door on loopback.
//
// Real, unmodified Azure SDK clients are the judges: azidentity, azsecrets and
// the resourcemanager modules accept its responses, and it refuses what Azure
// refuses with Azure's codes and messages (AADSTS codes, AuthorizationFailed,
// LinkedAuthorizationFailed, Key Vault Forbidden bodies).
//
// Start a Cloud with Start; seed it from a world.World; tests use the
// cloudtest package. Authorization decisions live in the pure package authz,
// fault injection in package faults, the YAML world schema in package world.
package cloud

package node

import "github.com/podid/podid/internal/acrcred"

// ServicePrincipal is the identity of a cluster created with az aks create
// --service-principal: the kubelet (and its credential provider) signs in
// as this application with its secret, read from azure.json. When the
// secret expires, pulls fail until az aks update-credentials writes a new
// one into every node's azure.json.
type ServicePrincipal struct {
	// ClientID is the application's app ID (azure.json's aadClientId).
	ClientID string
	// Secret is its client secret (aadClientSecret); azure.json is
	// written 0600 and the secret is never logged.
	Secret string
}

// servicePrincipalAzureJSON turns a managed-identity azure.json into the
// one AKS writes for a service-principal cluster: no managed identity, the
// application's ID and secret.
func servicePrincipalAzureJSON(cfg acrcred.AzureConfig, sp ServicePrincipal) acrcred.AzureConfig {
	cfg.AADClientID, cfg.AADClientSecret = sp.ClientID, sp.Secret
	cfg.UseManagedIdentityExtension, cfg.UserAssignedIdentityID = false, ""
	return cfg
}

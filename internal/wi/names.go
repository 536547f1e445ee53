// Package wi holds Azure AD Workload Identity's contract with pods: the
// label, annotations and environment variables azure-workload-identity
// defines, kept byte for byte so that pods and service accounts written for
// it work unchanged. The webhook writes them (internal/wiwebhook), the node
// agent reads them (internal/agent/podindex) and podid migrate sets them
// (internal/migrate); this is their one definition.
package wi

// The label and annotations.
const (
	// UseLabel on a pod, value "true", selects it for injection.
	UseLabel = "azure.workload.identity/use"
	// ClientIDAnnotation on the ServiceAccount is the client ID of the
	// identity the pod signs in as (AZURE_CLIENT_ID).
	ClientIDAnnotation = "azure.workload.identity/client-id"
	// TenantIDAnnotation on the ServiceAccount overrides the webhook's
	// tenant (AZURE_TENANT_ID), even when empty.
	TenantIDAnnotation = "azure.workload.identity/tenant-id"
	// TokenExpirationAnnotation, on the pod or else on the ServiceAccount,
	// is the projected token's lifetime in whole seconds.
	TokenExpirationAnnotation = "azure.workload.identity/service-account-token-expiration" // #nosec G101 -- an annotation name
	// SkipContainersAnnotation on the pod lists containers, separated by
	// ";", that get neither the environment nor the token mount.
	SkipContainersAnnotation = "azure.workload.identity/skip-containers"
	// InjectProxySidecarAnnotation on the pod asks v1.6 for its IMDS proxy
	// sidecar. podid injects no proxy: its node agent answers IMDS.
	InjectProxySidecarAnnotation = "azure.workload.identity/inject-proxy-sidecar"
	// ProxySidecarPortAnnotation is the proxy's port in v1.6.
	ProxySidecarPortAnnotation = "azure.workload.identity/proxy-sidecar-port"
)

// Environment variables the webhook adds to each container, which the Azure
// SDKs' workload identity credentials read.
const (
	EnvClientID           = "AZURE_CLIENT_ID"
	EnvTenantID           = "AZURE_TENANT_ID"
	EnvFederatedTokenFile = "AZURE_FEDERATED_TOKEN_FILE" // #nosec G101 -- a variable name
	EnvAuthorityHost      = "AZURE_AUTHORITY_HOST"
)

// Audience is the audience of the projected service-account token: the one
// Azure AD's token exchange expects of a federated client assertion.
const Audience = "api://AzureADTokenExchange"

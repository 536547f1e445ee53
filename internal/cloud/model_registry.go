package cloud

import (
	"strings"
	"time"
)

// Registry role-assignment modes (ARM roleAssignmentMode).
const (
	// RoleModeRBAC is az's "rbac": registry-wide roles (AcrPull, AcrPush,
	// Reader, Contributor, Owner) decide.
	RoleModeRBAC = "LegacyRegistryPermissions"
	// RoleModeABAC is az's "rbac-abac": only the repository roles, whose
	// assignments may carry repository-name conditions, decide.
	RoleModeABAC = "AbacRepositoryPermissions"
)

// RegistryImage is an image a world file loads into a registry when the
// cloud starts: the manifest Ref (or the only one) of the OCI layout at
// Layout, tagged Repository:Tag.
type RegistryImage struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// Layout is the absolute path of an OCI image layout directory.
	Layout string `json:"layout"`
	// Ref is the org.opencontainers.image.ref.name annotation that picks
	// one manifest of the layout; empty means the layout has exactly one.
	Ref string `json:"ref,omitempty"`
}

// Registry is an Azure Container Registry. Its content lives in memory
// (package registry of go-containerregistry); Images are reloaded from
// their layouts whenever the cloud starts.
type Registry struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	SubscriptionID string            `json:"subscriptionId"`
	ResourceGroup  string            `json:"resourceGroup"`
	Location       string            `json:"location"`
	TenantID       string            `json:"tenantId"`
	Tags           map[string]string `json:"tags,omitempty"`
	// SKU is Basic, Standard or Premium.
	SKU              string `json:"sku"`
	AdminUserEnabled bool   `json:"adminUserEnabled,omitempty"`
	// PublicNetworkAccess is Enabled or Disabled.
	PublicNetworkAccess string `json:"publicNetworkAccess"`
	// DefaultAction is the network rule set's Allow or Deny.
	DefaultAction string `json:"defaultAction"`
	// IPRules are IPv4 addresses or CIDR ranges allowed when DefaultAction is Deny.
	IPRules              []string `json:"ipRules,omitempty"`
	AnonymousPullEnabled bool     `json:"anonymousPullEnabled,omitempty"`
	// ARMTokensDisabled is policies.azureADAuthenticationAsArmPolicy
	// disabled: /oauth2/exchange then refuses Resource Manager tokens.
	ARMTokensDisabled bool `json:"armTokensDisabled,omitempty"`
	// RoleAssignmentMode is RoleModeRBAC or RoleModeABAC.
	RoleAssignmentMode string          `json:"roleAssignmentMode"`
	Created            time.Time       `json:"created"`
	Images             []RegistryImage `json:"images,omitempty"`
}

// LoginServer is the registry's host name, <name>.azurecr.io in lower case.
func (r *Registry) LoginServer() string { return RegistryLoginServer(r.Name) }

// RegistryLoginServer is the login server (host name) of the registry
// called name: <name>.azurecr.io in lower case, as Azure spells it.
func RegistryLoginServer(name string) string { return strings.ToLower(name) + "." + RegistryDomain }

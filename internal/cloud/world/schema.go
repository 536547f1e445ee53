package world

import (
	"time"
)

// World is the root of a world file.
type World struct {
	Tenants []Tenant `yaml:"tenants"`
	pos
	// baseDir is the world file's directory: relative paths start there.
	baseDir string
}

// Tenant is an Azure AD tenant and everything in it.
type Tenant struct {
	ID              string           `yaml:"id"`
	Name            string           `yaml:"name"`
	Subscriptions   []Subscription   `yaml:"subscriptions"`
	Applications    []Application    `yaml:"applications"`
	RoleAssignments []RoleAssignment `yaml:"roleAssignments"`
	Users           []User           `yaml:"users"`
	Groups          []Group          `yaml:"groups"`
	pos
}

// Subscription holds resource groups.
type Subscription struct {
	ID             string          `yaml:"id"`
	Name           string          `yaml:"name"`
	ResourceGroups []ResourceGroup `yaml:"resourceGroups"`
	pos
}

// ResourceGroup holds identities, machines and vaults.
type ResourceGroup struct {
	Name            string     `yaml:"name"`
	Location        string     `yaml:"location"`
	Identities      []Identity `yaml:"identities"`
	ScaleSets       []Machine  `yaml:"scaleSets"`
	VirtualMachines []Machine  `yaml:"virtualMachines"`
	Vaults          []Vault    `yaml:"vaults"`
	Registries      []Registry `yaml:"registries"`
	// ManagedClusters are AKS clusters, scopes for the AKS roles.
	ManagedClusters []ManagedCluster `yaml:"managedClusters"`
	pos
}

// Identity is a user-assigned managed identity.
type Identity struct {
	Name                 string                `yaml:"name"`
	ClientID             string                `yaml:"clientId"`
	PrincipalID          string                `yaml:"principalId"`
	FederatedCredentials []FederatedCredential `yaml:"federatedCredentials"`
	pos
}

// FederatedCredential trusts an external issuer's tokens.
type FederatedCredential struct {
	Name      string   `yaml:"name"`
	Issuer    string   `yaml:"issuer"`
	Subject   string   `yaml:"subject"`
	Audiences []string `yaml:"audiences"`
	pos
}

// Machine is a VM scale set (Capacity instances) or a VM.
type Machine struct {
	Name           string `yaml:"name"`
	Capacity       int    `yaml:"capacity"`
	SystemAssigned bool   `yaml:"systemAssigned"`
	// Identities are user-assigned identities by name or resource ID.
	Identities []string `yaml:"identities"`
	pos
}

// Vault is a key vault.
type Vault struct {
	Name string `yaml:"name"`
	// Mode is "rbac" (default) or "accessPolicy".
	Mode           string         `yaml:"mode"`
	AccessPolicies []AccessPolicy `yaml:"accessPolicies"`
	Secrets        []Secret       `yaml:"secrets"`
	pos
}

// AccessPolicy grants secret permissions (get, list, set, delete, all) to a principal.
type AccessPolicy struct {
	Principal string   `yaml:"principal"`
	Secrets   []string `yaml:"secrets"`
	pos
}

// Secret is a secret's current value.
type Secret struct {
	Name        string `yaml:"name"`
	Value       string `yaml:"value"`
	ContentType string `yaml:"contentType"`
	pos
}

// Application is an app registration with its service principal.
type Application struct {
	Name                 string                `yaml:"name"`
	AppID                string                `yaml:"appId"`
	ObjectID             string                `yaml:"objectId"`
	Secrets              []AppSecret           `yaml:"secrets"`
	Certificates         []AppCertificate      `yaml:"certificates"`
	FederatedCredentials []FederatedCredential `yaml:"federatedCredentials"`
	pos
}

// AppSecret is a client secret; a zero EndDate never expires.
type AppSecret struct {
	Value   string    `yaml:"value"`
	EndDate time.Time `yaml:"endDate"`
	pos
}

// AppCertificate is a PEM certificate (public part only).
type AppCertificate struct {
	PEM string `yaml:"pem"`
	pos
}

// RoleAssignment grants Role at Scope to Principal.
//
// Principal is a user principal name, a group name, an identity name, an
// application name, "system/<machine name>" for a system-assigned
// identity, or an object ID. Scope is a resource ID ("/subscriptions/...")
// or a reference: "subscription/<id or name>", "resourceGroup/<name>",
// "identity/<name>", "scaleSet/<name>", "virtualMachine/<name>",
// "vault/<name>", "registry/<name>", "managedCluster/<name>" or
// "managedCluster/<name>/namespaces/<namespace>". Role is a built-in role
// name or ID.
type RoleAssignment struct {
	Principal string `yaml:"principal"`
	Role      string `yaml:"role"`
	Scope     string `yaml:"scope"`
	// Condition is an optional ABAC condition (version 2.0), e.g. a
	// repository-name condition on a registry in rbac-abac mode.
	Condition string `yaml:"condition"`
	pos
}

package cloud

import (
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"time"

	"github.com/podid/podid/internal/cloud/authz"
)

// Tenant is an Azure AD tenant.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Subscription belongs to one tenant.
type Subscription struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
}

// ResourceGroup is an ARM resource group.
type ResourceGroup struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	SubscriptionID string `json:"subscriptionId"`
	Location       string `json:"location"`
}

// PasswordCredential is an application secret.
type PasswordCredential struct {
	KeyID   string    `json:"keyId"`
	Value   string    `json:"value"`
	EndDate time.Time `json:"endDate"`
}

// CertificateCredential is an application certificate (DER).
type CertificateCredential struct {
	KeyID string    `json:"keyId"`
	DER   []byte    `json:"der"`
	End   time.Time `json:"endDate"`
}

// FederatedCredential trusts tokens of an external issuer with an exact
// issuer, subject and audience.
type FederatedCredential struct {
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// Application is an app registration together with its service principal.
type Application struct {
	TenantID     string                  `json:"tenantId"`
	Name         string                  `json:"name"`
	AppID        string                  `json:"appId"`
	ObjectID     string                  `json:"objectId"`
	Secrets      []PasswordCredential    `json:"secrets,omitempty"`
	Certificates []CertificateCredential `json:"certificates,omitempty"`
	Federated    []FederatedCredential   `json:"federatedCredentials,omitempty"`
}

// Identity is a user-assigned managed identity.
type Identity struct {
	ID             string                `json:"id"`
	Name           string                `json:"name"`
	SubscriptionID string                `json:"subscriptionId"`
	ResourceGroup  string                `json:"resourceGroup"`
	Location       string                `json:"location"`
	TenantID       string                `json:"tenantId"`
	ClientID       string                `json:"clientId"`
	PrincipalID    string                `json:"principalId"`
	Tags           map[string]string     `json:"tags,omitempty"`
	Federated      []FederatedCredential `json:"federatedCredentials,omitempty"`
}

// SystemIdentity is the system-assigned identity of a VM or VMSS.
type SystemIdentity struct {
	PrincipalID string `json:"principalId"`
	ClientID    string `json:"clientId"`
}

// Machine is a VM or a VMSS (Capacity > 0 instances; VMs have one).
type Machine struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	ScaleSet       bool            `json:"scaleSet"`
	SubscriptionID string          `json:"subscriptionId"`
	ResourceGroup  string          `json:"resourceGroup"`
	Location       string          `json:"location"`
	TenantID       string          `json:"tenantId"`
	Capacity       int             `json:"capacity"`
	System         *SystemIdentity `json:"systemIdentity,omitempty"`
	// UserAssigned holds identity resource IDs as the caller spelled them.
	UserAssigned []string `json:"userAssignedIdentities,omitempty"`
	UniqueID     string   `json:"uniqueId"`
}

// AccessPolicy grants secret permissions in an access-policy vault.
type AccessPolicy struct {
	ObjectID string   `json:"objectId"`
	Secrets  []string `json:"secrets"`
}

// SecretVersion is one version of a Key Vault secret.
type SecretVersion struct {
	Version     string            `json:"version"`
	Value       string            `json:"value"`
	ContentType string            `json:"contentType,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Enabled     bool              `json:"enabled"`
	Created     time.Time         `json:"created"`
	Updated     time.Time         `json:"updated"`
}

// Vault is a Key Vault; RBAC selects the permission model.
type Vault struct {
	ID             string                     `json:"id"`
	Name           string                     `json:"name"`
	SubscriptionID string                     `json:"subscriptionId"`
	ResourceGroup  string                     `json:"resourceGroup"`
	Location       string                     `json:"location"`
	TenantID       string                     `json:"tenantId"`
	RBAC           bool                       `json:"rbac"`
	AccessPolicies []AccessPolicy             `json:"accessPolicies,omitempty"`
	Secrets        map[string][]SecretVersion `json:"secrets,omitempty"`
}

// State is everything the cloud knows; it is what persists.
type State struct {
	Tenants         []Tenant           `json:"tenants"`
	Subscriptions   []Subscription     `json:"subscriptions"`
	ResourceGroups  []*ResourceGroup   `json:"resourceGroups"`
	Applications    []*Application     `json:"applications"`
	Identities      []*Identity        `json:"identities"`
	Machines        []*Machine         `json:"machines"`
	Vaults          []*Vault           `json:"vaults"`
	Registries      []*Registry        `json:"registries,omitempty"`
	Users           []*User            `json:"users,omitempty"`
	Groups          []*Group           `json:"groups,omitempty"`
	ManagedClusters []*ManagedCluster  `json:"managedClusters,omitempty"`
	RoleAssignments []authz.Assignment `json:"roleAssignments"`
}

// Principal is whoever a token was issued to.
type Principal struct {
	TenantID string
	ObjectID string
	ClientID string
	// ResourceID is set for managed identities (xms_mirid).
	ResourceID string
	// Managed is true for managed identities.
	Managed bool
	// Federated lists the federated credentials trusted for this client.
	Federated []FederatedCredential
}

func lower(s string) string { return strings.ToLower(s) }

// thumbprintMatches reports whether an x5t (SHA-1) or x5t#S256 header value
// names der. Values may be base64url (RFC 7515) or standard base64 (as MSAL
// sends them).
func thumbprintMatches(header string, der []byte, sha256Sum bool) bool {
	if header == "" {
		return false
	}
	var want []byte
	if sha256Sum {
		s := sha256.Sum256(der)
		want = s[:]
	} else {
		s := sha1.Sum(der) //nolint:gosec // x5t is defined as a SHA-1 thumbprint.
		want = s[:]
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if got, err := enc.DecodeString(header); err == nil && string(got) == string(want) {
			return true
		}
	}
	return false
}

func parseCert(der []byte) (*x509.Certificate, error) { return x509.ParseCertificate(der) }

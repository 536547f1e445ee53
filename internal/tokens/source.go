package tokens

import (
	"context"
	"strconv"
	"time"

	v1 "github.com/podid/podid/api/v1"
)

// TokenSource gets an access token for an identity and a resource.
//
// Contract:
//   - Token returns promptly once ctx is done, with an error wrapping
//     ctx.Err(). Implementations never outlive ctx with work the caller waits
//     for; callers that want a deadline put it on ctx.
//   - A returned Token has a non-empty AccessToken and a non-zero ExpiresOn.
//   - A returned error may carry the upstream HTTP status (see Error and
//     StatusOf); an error without one is a transport or local failure and
//     worth retrying.
//   - Implementations are safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context, req Request) (Token, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context, req Request) (Token, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context, req Request) (Token, error) { return f(ctx, req) }

// Request names what a token is wanted for.
type Request struct {
	// Identity is who the token is for.
	Identity Identity
	// Resource is the v1 resource (audience) without "/.default", for
	// example https://vault.azure.net.
	Resource string
}

// Mode says how the agent gets tokens for an identity.
type Mode string

const (
	// ModeDefault leaves the choice to the cluster default.
	ModeDefault Mode = ""
	// ModeNode asks the node's IMDS (the identity must be on the node's VM
	// or VMSS) for managed identities, and AAD with the identity's own
	// secret or certificate for service principals.
	ModeNode Mode = "node"
	// ModeFederated exchanges the agent's service-account token at AAD for
	// the identity's client ID; the identity needs one federated credential
	// for the cluster's issuer and the agent's service account, and nothing
	// is written to the VMSS.
	ModeFederated Mode = "federated"
)

// Identity is the part of an AzureIdentity a token source needs.
type Identity struct {
	// Name is namespace/name of the AzureIdentity, for logs and secrets.
	Name string
	// Type is the AzureIdentity type (0 MSI, 1 secret, 2 certificate).
	Type v1.IdentityType
	// ClientID is the application (client) ID.
	ClientID string
	// ResourceID is the ARM ID of a user-assigned managed identity.
	ResourceID string
	// ObjectID is the principal's object ID when known. The API does not
	// carry it: the agent's server fills it in from the oid claim of the
	// identity's tokens (ObjectIDOf, Cache.ObjectID) to answer requests
	// that name an object_id. It is not part of Key.
	ObjectID string
	// TenantID is the Azure AD tenant of a service principal.
	TenantID string
	// SecretNamespace and SecretName locate the client secret or certificate.
	SecretNamespace, SecretName string
	// Mode overrides the cluster's token mode for this identity.
	Mode Mode
	// AssertionFile, when set, is the calling pod's projected
	// service-account token on this node (workload identity): tokens come
	// from exchanging it, whatever Mode says. Name then names the pod's
	// service account, so pods of different accounts never share tokens.
	AssertionFile string
}

// IdentityKey identifies an identity for caching: the fields that decide
// which principal a token is for, so an AzureIdentity edited to name
// another principal never shares cached tokens with its old self. It is
// comparable, so maps use it as it is, with no string built per request.
type IdentityKey struct {
	Name                         string
	Type                         v1.IdentityType
	ClientID, ResourceID, Tenant string
	Mode                         Mode
	Assertion                    bool
}

// String joins the key's fields, for single-flight keys and logs.
func (k IdentityKey) String() string {
	return k.Name + "\x00" + strconv.Itoa(int(k.Type)) + "\x00" + k.ClientID + "\x00" + k.ResourceID + "\x00" + k.Tenant + "\x00" + string(k.Mode) + "\x00" + strconv.FormatBool(k.Assertion)
}

// Key returns the identity's cache key.
func (i Identity) Key() IdentityKey {
	return IdentityKey{Name: i.Name, Type: i.Type, ClientID: i.ClientID, ResourceID: i.ResourceID, Tenant: i.TenantID, Mode: i.Mode, Assertion: i.AssertionFile != ""}
}

// Token is an access token and what it is good for.
type Token struct {
	// AccessToken is the bearer token. Never log it.
	AccessToken string
	// ExpiresOn is when the token stops being valid.
	ExpiresOn time.Time
	// NotBefore is when it starts being valid; zero means "when issued".
	NotBefore time.Time
	// Resource is the audience it was issued for.
	Resource string
	// ClientID is the client ID of the identity it was issued to.
	ClientID string
	// TokenType is "Bearer".
	TokenType string
}

// RedactClientID keeps the first and last four characters of a client ID,
// as aad-pod-identity logged it: 7eb6##### REDACTED #####a6a9.
func RedactClientID(id string) string {
	if len(id) <= 8 {
		return "##### REDACTED #####"
	}
	return id[:4] + "##### REDACTED #####" + id[len(id)-4:]
}

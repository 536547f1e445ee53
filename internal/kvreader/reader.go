package kvreader

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// SecretReader reads the current value of a secret.
type SecretReader interface {
	// ReadSecret returns the value of the latest version of secret name.
	// A failure to get a token is a *TokenError; Key Vault's refusals
	// are *azcore.ResponseError.
	ReadSecret(ctx context.Context, name string) (string, error)
}

// TokenError is a failure to get a token for Key Vault, as opposed to
// Key Vault refusing the token it got.
type TokenError struct {
	// Kind is the credential that failed (one of the Cred* kinds); it
	// decides what the answer tells the pod to check.
	Kind string
	Err  error
}

func (e *TokenError) Error() string { return "get token for Key Vault: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

// markedCredential wraps a credential so that its failures come out of the
// SDK's pipeline as *TokenError: the pipeline returns them unchanged among
// its own errors, and the answer to the pod must tell the two apart.
type markedCredential struct {
	kind string
	cred azcore.TokenCredential
}

func (c markedCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tk, err := c.cred.GetToken(ctx, o)
	if err != nil {
		return tk, &TokenError{Kind: c.kind, Err: err}
	}
	return tk, nil
}

// vaultReader reads secrets of one vault with azsecrets.
type vaultReader struct {
	client *azsecrets.Client
}

var _ SecretReader = (*vaultReader)(nil)

// NewVaultReader returns a SecretReader of the vault at vaultURL that
// authenticates with cred, a credential of kind (one of the Cred* kinds).
// opts may be nil; tests set their transport.
func NewVaultReader(vaultURL, kind string, cred azcore.TokenCredential, opts *azsecrets.ClientOptions) (SecretReader, error) {
	client, err := azsecrets.NewClient(vaultURL, markedCredential{kind: kind, cred: cred}, opts)
	if err != nil {
		return nil, fmt.Errorf("make Key Vault client for %s: %w", vaultURL, err)
	}
	return &vaultReader{client: client}, nil
}

func (r *vaultReader) ReadSecret(ctx context.Context, name string) (string, error) {
	// An empty version is the latest.
	resp, err := r.client.GetSecret(ctx, name, "", nil)
	if err != nil {
		return "", fmt.Errorf("get secret %s: %w", name, err)
	}
	if resp.Value == nil {
		return "", errors.New("get secret " + name + ": Key Vault answered without a value")
	}
	return *resp.Value, nil
}

package cloud

import (
	"context"
	"fmt"
	"net/http"

	embedded "github.com/podid/podid/internal/cloud"
)

// FederatedCredentialWriter writes federated identity credentials through
// the admin API of an embedded cloud, as an administrator running
// az identity federated-credential create would.
type FederatedCredentialWriter struct{ a *admin }

// NewFederatedCredentialWriter finds the cloud o names (a podid up run or
// --cloud-url).
func NewFederatedCredentialWriter(o TargetOptions) (*FederatedCredentialWriter, error) {
	a, err := newAdmin(o)
	if err != nil {
		return nil, err
	}
	return &FederatedCredentialWriter{a: a}, nil
}

// Put creates or replaces the credential named f.Name of the user-assigned
// identity f.Identity (a resource ID).
func (w *FederatedCredentialWriter) Put(ctx context.Context, f embedded.AdminFederatedCredential) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	if err := w.a.do(ctx, http.MethodPut, "/admin/federatedCredentials", f, nil); err != nil {
		return fmt.Errorf("put federated credential %s: %w", f.Name, err)
	}
	return nil
}

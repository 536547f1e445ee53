package kvreader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Server timeouts.
const (
	readHeaderTimeout = 10 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// imdsRetry keeps a read short while IMDS answers 404 (identity not yet
// assigned): the SDK's IMDS default retries for about a minute, but the
// caller (the seed's `wget --tries=70`) already retries, and its log
// should show each failure rather than one long silence.
var imdsRetry = policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Second, MaxRetryDelay: 4 * time.Second}

// NewCredential makes the credential of kind (one of the Cred* kinds).
// The workload-identity kinds read the webhook's environment
// (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
// AZURE_AUTHORITY_HOST) as azidentity does.
func NewCredential(kind, clientID string) (azcore.TokenCredential, error) {
	switch kind {
	case CredWorkloadIdentity:
		cred, err := azidentity.NewWorkloadIdentityCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("make workload identity credential (is the pod labelled azure.workload.identity/use=true and its service account annotated with a client ID?): %w", err)
		}
		return cred, nil
	case CredDefault:
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("make default Azure credential: %w", err)
		}
		return cred, nil
	}
	return newManagedIdentityCredential(clientID)
}

// newManagedIdentityCredential is the pod identity credential: managed
// identity through IMDS, as the user-assigned identity clientID when it is
// not empty.
func newManagedIdentityCredential(clientID string) (azcore.TokenCredential, error) {
	o := &azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: azcore.ClientOptions{Retry: imdsRetry},
	}
	if clientID != "" {
		o.ID = azidentity.ClientID(clientID)
	}
	cred, err := azidentity.NewManagedIdentityCredential(o)
	if err != nil {
		return nil, fmt.Errorf("make managed identity credential: %w", err)
	}
	return cred, nil
}

// Run serves reads of the vault in o until ctx ends.
func Run(ctx context.Context, o *Options, log *slog.Logger) error {
	vault, err := o.Vault()
	if err != nil {
		return err
	}
	cred, err := NewCredential(o.Credential, o.ClientID)
	if err != nil {
		return err
	}
	reader, err := NewVaultReader(vault, o.Credential, cred, nil)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.ListenAddress, err)
	}
	srv := &http.Server{
		Handler:           NewHandler(reader, log, o.ReadTimeout),
		ReadHeaderTimeout: readHeaderTimeout,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	log.Info("serving Key Vault secrets", "address", l.Addr().String(), "vault", vault, "credential", o.Credential, "clientID", o.ClientID)

	select {
	case err := <-done:
		return fmt.Errorf("serve on %s: %w", o.ListenAddress, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", o.ListenAddress, err)
	}
	return nil
}

package kvreader

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/spf13/pflag"
)

// Environment variables that set Options, as the seed manifests do.
const (
	EnvVaultName = "AZURE_KEYVAULT_NAME"
	EnvVaultURL  = "AZURE_KEYVAULT_URL"
	EnvClientID  = "AZURE_CLIENT_ID"
	EnvListen    = "KVREADER_LISTEN_ADDRESS"
	EnvCred      = "KVREADER_CREDENTIAL"
)

// Credential kinds: how the reader gets its Azure AD token.
const (
	// CredManagedIdentity asks IMDS, as seed 004's sidecar does (pod identity).
	CredManagedIdentity = "managed-identity"
	// CredWorkloadIdentity exchanges the projected service-account token
	// the workload-identity webhook mounts (AZURE_FEDERATED_TOKEN_FILE); it
	// never calls IMDS.
	CredWorkloadIdentity = "workload-identity"
	// CredDefault is azidentity's DefaultAzureCredential: what an
	// application written for workload identity uses, with no code for any
	// particular environment.
	CredDefault = "default"
)

// Defaults.
const (
	// DefaultListenAddress is where the seed's busybox looks.
	DefaultListenAddress = "127.0.0.1:8333"
	// DefaultReadTimeout bounds one read, token included. IMDS answers
	// 404 until the identity is assigned and the credential retries that,
	// so a read may take seconds; the caller retries after this.
	DefaultReadTimeout = 30 * time.Second
	// vaultDNSSuffix is public Azure's Key Vault domain.
	vaultDNSSuffix = ".vault.azure.net"
)

// Options configure the reader.
type Options struct {
	// ListenAddress is HOST:PORT of the HTTP server.
	ListenAddress string
	// VaultName is the vault's name in public Azure; VaultURL wins.
	VaultName string
	// VaultURL is the vault's full URL, for clouds other than public
	// Azure and for tests.
	VaultURL string
	// ClientID selects a user-assigned identity; empty lets IMDS pick.
	ClientID string
	// ReadTimeout bounds one read; 0 means no bound besides the caller's.
	ReadTimeout time.Duration
	// Credential is one of the Cred* kinds.
	Credential string
}

// NewOptions returns the defaults overridden by the environment, read
// through getenv (os.Getenv outside tests).
func NewOptions(getenv func(string) string) *Options {
	o := &Options{
		ListenAddress: DefaultListenAddress,
		VaultName:     getenv(EnvVaultName),
		VaultURL:      getenv(EnvVaultURL),
		ClientID:      getenv(EnvClientID),
		ReadTimeout:   DefaultReadTimeout,
		Credential:    CredManagedIdentity,
	}
	if v := getenv(EnvListen); v != "" {
		o.ListenAddress = v
	}
	if v := getenv(EnvCred); v != "" {
		o.Credential = v
	}
	return o
}

// AddFlags binds the options to fs; flags win over the environment.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ListenAddress, "listen-address", o.ListenAddress, "HOST:PORT to serve on (env "+EnvListen+").")
	fs.StringVar(&o.VaultName, "vault-name", o.VaultName, "Name of the Key Vault in public Azure, read at https://NAME"+vaultDNSSuffix+" (env "+EnvVaultName+").")
	fs.StringVar(&o.VaultURL, "vault-url", o.VaultURL, "Full URL of the Key Vault; overrides --vault-name (env "+EnvVaultURL+").")
	fs.StringVar(&o.ClientID, "client-id", o.ClientID, "Client ID of the user-assigned identity to read as; empty lets IMDS pick the pod's identity (env "+EnvClientID+").")
	fs.DurationVar(&o.ReadTimeout, "read-timeout", o.ReadTimeout, "Longest time one read may take, token included; 0 means no limit.")
	fs.StringVar(&o.Credential, "credential", o.Credential, "How to get the token: "+CredManagedIdentity+" (IMDS, pod identity), "+CredWorkloadIdentity+" (the projected token the workload-identity webhook mounts) or "+CredDefault+" (azidentity's DefaultAzureCredential) (env "+EnvCred+").")
}

// Validate reports bad option values.
func (o *Options) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(o.ListenAddress); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: want HOST:PORT", o.ListenAddress))
	}
	if _, err := o.Vault(); err != nil {
		errs = append(errs, err)
	}
	switch o.Credential {
	case CredManagedIdentity, CredWorkloadIdentity, CredDefault:
	default:
		errs = append(errs, fmt.Errorf("credential %q: want %s, %s or %s", o.Credential, CredManagedIdentity, CredWorkloadIdentity, CredDefault))
	}
	if o.ReadTimeout < 0 {
		errs = append(errs, fmt.Errorf("read timeout must not be negative, got %s", o.ReadTimeout))
	}
	return errors.Join(errs...)
}

// Vault is the URL of the vault the secrets are read from.
func (o *Options) Vault() (string, error) {
	if o.VaultURL == "" {
		if o.VaultName == "" {
			return "", fmt.Errorf("no Key Vault to read from: set %s (or %s)", EnvVaultName, EnvVaultURL)
		}
		return "https://" + o.VaultName + vaultDNSSuffix, nil
	}
	u, err := url.Parse(o.VaultURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		// Key Vault only hands secrets over TLS, and the SDK refuses to
		// send a token over plain HTTP.
		return "", fmt.Errorf("vault URL %q: want https://HOST", o.VaultURL)
	}
	return o.VaultURL, nil
}

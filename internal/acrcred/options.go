package acrcred

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/podid/podid/internal/tokens"
)

// DefaultTimeout bounds one provider run; the kubelet kills the plugin
// after a minute.
const DefaultTimeout = 50 * time.Second

// Options are the provider's and check-acr's settings. Environment
// variables (FromEnv) set the defaults that flags then override, so the
// kubelet's credential provider config can use either.
type Options struct {
	// AzureConfig is the node's azure.json.
	AzureConfig string
	// IMDSEndpoint is the instance metadata service base URL.
	IMDSEndpoint string
	// AuthorityHost overrides the environment's Azure AD host.
	AuthorityHost string
	// CABundle is a PEM file trusted in addition to the system roots, for
	// Azure AD and the registry.
	CABundle string
	// FrontDoor, when set, is the host:port every HTTPS connection is
	// dialled to instead of the name's DNS address: the embedded cloud's
	// front door, which serves <name>.azurecr.io and Azure AD's host.
	FrontDoor string
	// RegistryMirror is the source:target list of ParseMirrors.
	RegistryMirror string
	// AnonymousEntry adds AKS's "*.azurecr.*" entry with empty credentials.
	AnonymousEntry bool
	// Timeout bounds the whole run.
	Timeout time.Duration
	// CacheDuration is the longest cacheDuration answered to the kubelet;
	// the refresh token's remaining life less expiryMargin shortens it.
	// NewOptions sets DefaultCacheDuration, AKS's. 0 answers 0, which the
	// kubelet takes as "do not cache": it runs the provider for every
	// pull, one IMDS (or Azure AD) token and one exchange each (to measure that, or
	// to see a role change at once).
	CacheDuration time.Duration

	// envErr is a bad EnvCacheDuration, reported by Validate.
	envErr error
}

// Environment variables that set Options.
const (
	EnvAzureConfig   = "PODID_AZURE_CONFIG"
	EnvIMDSEndpoint  = "PODID_IMDS_ENDPOINT"
	EnvAuthorityHost = "AZURE_AUTHORITY_HOST"
	EnvCABundle      = "PODID_CA_BUNDLE"
	EnvFrontDoor     = "PODID_FRONT_DOOR"
	// EnvCacheDuration sets CacheDuration. The kubelet passes its own
	// environment on to the provider, so setting it where the kubelet
	// starts (podid up's environment) reaches the provider too.
	EnvCacheDuration = "PODID_ACR_CACHE_DURATION"
)

// NewOptions returns Azure's defaults overridden by the environment.
func NewOptions(getenv func(string) string) *Options {
	o := &Options{AzureConfig: DefaultAzureConfigPath, IMDSEndpoint: tokens.DefaultIMDSEndpoint, AnonymousEntry: true, Timeout: DefaultTimeout,
		CacheDuration: DefaultCacheDuration}
	for env, field := range map[string]*string{EnvAzureConfig: &o.AzureConfig, EnvIMDSEndpoint: &o.IMDSEndpoint,
		EnvAuthorityHost: &o.AuthorityHost, EnvCABundle: &o.CABundle, EnvFrontDoor: &o.FrontDoor} {
		if v := getenv(env); v != "" {
			*field = v
		}
	}
	if v := getenv(EnvCacheDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			o.envErr = fmt.Errorf("%s %q is not a duration such as 0 or 10m: %w", EnvCacheDuration, v, err)
		} else {
			o.CacheDuration = d
		}
	}
	return o
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.AzureConfig, "azure-config", o.AzureConfig, "The node's azure.json (env "+EnvAzureConfig+"); the kubelet passes it as the only argument instead.")
	fs.StringVar(&o.IMDSEndpoint, "imds-endpoint", o.IMDSEndpoint, "Instance metadata service base URL, for a managed identity (env "+EnvIMDSEndpoint+").")
	fs.StringVar(&o.AuthorityHost, "authority-host", o.AuthorityHost, "Azure AD base URL for a service principal; empty uses the azure.json cloud's (env "+EnvAuthorityHost+").")
	fs.StringVar(&o.CABundle, "ca-bundle", o.CABundle, "PEM file of CAs trusted besides the system's, for Azure AD and the registry (env "+EnvCABundle+").")
	fs.StringVar(&o.FrontDoor, "front-door", o.FrontDoor, "host:port to dial for every HTTPS connection instead of the name's address, such as the embedded cloud's front door; empty uses DNS (env "+EnvFrontDoor+").")
	fs.StringVar(&o.RegistryMirror, "registry-mirror", o.RegistryMirror, "Comma-separated source:target registry pairs; images of source are pulled from the ACR target, e.g. mcr.microsoft.com:myacr.azurecr.io.")
	fs.BoolVar(&o.AnonymousEntry, "anonymous-entry", o.AnonymousEntry, "Also answer AKS's \"*.azurecr.*\" entry with empty credentials, for registries that allow anonymous pull.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Bound on the whole run; the kubelet stops a plugin after 1m. 0 means no bound.")
	fs.DurationVar(&o.CacheDuration, "cache-duration", o.CacheDuration, "Longest cacheDuration answered to the kubelet, which keeps the credentials per registry that long; the refresh token's remaining life less 5m shortens it. 0 tells the kubelet not to cache, so it runs the provider for every pull (env "+EnvCacheDuration+").")
}

// Validate checks what can be checked before any I/O.
func (o *Options) Validate() error {
	if o.AzureConfig == "" {
		return errors.New("--azure-config is empty; name the node's azure.json (" + DefaultAzureConfigPath + " on AKS)")
	}
	if _, err := ParseMirrors(o.RegistryMirror); err != nil {
		return err
	}
	if o.FrontDoor != "" {
		if _, _, err := net.SplitHostPort(o.FrontDoor); err != nil {
			return fmt.Errorf("--front-door %q is not host:port", o.FrontDoor)
		}
	}
	if o.Timeout < 0 {
		return fmt.Errorf("--timeout %s is negative; use 0 for no bound", o.Timeout)
	}
	if o.envErr != nil {
		return o.envErr
	}
	if o.CacheDuration < 0 {
		return fmt.Errorf("--cache-duration %s is negative; use 0 to have the kubelet run the provider for every pull", o.CacheDuration)
	}
	return nil
}

// HTTPClients builds the clients the options describe: one for Azure AD
// and the registry (system roots plus CABundle, through FrontDoor when
// set) and one for IMDS (no proxy, never through the front door).
func (o *Options) HTTPClients() (https, imds *http.Client, err error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if o.CABundle != "" {
		pem, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, nil, fmt.Errorf("read --ca-bundle: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("--ca-bundle %s holds no PEM certificate", o.CABundle)
		}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if fd := o.FrontDoor; fd != "" {
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, port, err := net.SplitHostPort(addr); err == nil && port == "443" {
				addr = fd
			}
			return dialer.DialContext(ctx, network, addr)
		}
	}
	https = &http.Client{Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	imds = &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: dialer.DialContext}, Timeout: 30 * time.Second}
	return https, imds, nil
}

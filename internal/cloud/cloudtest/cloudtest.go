package cloudtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/golang-jwt/jwt/v5"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
)

// IMDSAddress is where real clients send IMDS requests.
const IMDSAddress = "169.254.169.254:80"

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// sharedKey saves each test the cost of an RSA key generation.
func sharedKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatalf("generate signing key: %v", err)
		}
	})
	return key
}

// Env is a running cloud for one test.
type Env struct {
	Cloud *cloud.Cloud
	// URL is the HTTPS base URL (AAD authority host and ARM endpoint).
	URL string
	// AuthorityHost is the AAD authority host for azidentity (URL + "/").
	AuthorityHost string
	// ARMEndpoint is the Resource Manager endpoint (URL + "/").
	ARMEndpoint string
	// CertPool trusts the cloud's CA.
	CertPool *x509.CertPool
	// TenantID is the first tenant's ID; SubscriptionID the first subscription's.
	TenantID       string
	SubscriptionID string
	// HTTPClient trusts the cloud's CA.
	HTTPClient *http.Client
	// Configuration aims azcore at the cloud (AAD authority and ARM).
	Configuration azcloud.Configuration
}

// Options tweak Start.
type Options struct {
	// StateDir persists state; empty uses memory only.
	StateDir string
}

// Start runs the cloud seeded with w (nil: an empty world with one tenant
// and subscription) and stops it when t ends.
func Start(t testing.TB, w *world.World) *Env {
	return StartWith(t, w, Options{})
}

// StartYAML parses a world file body and starts the cloud with it.
func StartYAML(t testing.TB, body string) *Env {
	return StartYAMLWith(t, body, Options{})
}

// StartYAMLWith is StartYAML with options, for tests that need the cloud's
// CA on disk (StateDir) to hand to a command.
func StartYAMLWith(t testing.TB, body string, o Options) *Env {
	t.Helper()
	w, err := world.Parse("world.yaml", []byte(body))
	if err != nil {
		t.Fatalf("parse world: %v", err)
	}
	return StartWith(t, w, o)
}

// StartWith is Start with options.
func StartWith(t testing.TB, w *world.World, o Options) *Env {
	t.Helper()
	if w == nil {
		var err error
		if w, err = world.Parse("default", []byte(DefaultWorld)); err != nil {
			t.Fatalf("parse default world: %v", err)
		}
	}
	st, err := w.State()
	if err != nil {
		t.Fatalf("build world state: %v", err)
	}
	c, err := cloud.Start(context.Background(), cloud.Options{Seed: st, StateDir: o.StateDir, SigningKey: sharedKey(t)})
	if err != nil {
		t.Fatalf("start cloud: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close cloud: %v", err)
		}
	})
	e := &Env{Cloud: c, URL: c.URL(), AuthorityHost: c.AuthorityURL(), ARMEndpoint: c.ARMURL(), CertPool: c.CertPool(), HTTPClient: c.HTTPClient()}
	snap := c.Snapshot()
	if len(snap.Tenants) > 0 {
		e.TenantID = snap.Tenants[0].ID
	}
	if len(snap.Subscriptions) > 0 {
		e.SubscriptionID = snap.Subscriptions[0].ID
	}
	e.Configuration = azcloud.Configuration{
		ActiveDirectoryAuthorityHost: c.AuthorityURL(),
		Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azcloud.ResourceManager: {Audience: "https://management.azure.com", Endpoint: c.ARMURL()},
		},
	}
	t.Cleanup(e.HTTPClient.CloseIdleConnections)
	return e
}

// ClientOptions aims an azcore client at the cloud, trusting its CA, with
// retries off so refusals surface at once.
func (e *Env) ClientOptions() policy.ClientOptions {
	return policy.ClientOptions{Cloud: e.Configuration, Transport: e.HTTPClient, Retry: policy.RetryOptions{MaxRetries: -1}}
}

// IMDSClient is an http.Client that sends connections for
// 169.254.169.254:80 to the IMDS listener of instance (e.g. "vmss_0").
func (e *Env) IMDSClient(t testing.TB, instance string) *http.Client {
	addr := e.Cloud.IMDSAddr(instance)
	if addr == "" {
		t.Fatalf("no IMDS listener for instance %q; have %+v", instance, e.Cloud.Instances())
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			if a == IMDSAddress {
				a = addr
			}
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, a)
		},
		TLSClientConfig: &tls.Config{RootCAs: e.Cloud.CertPool(), MinVersion: tls.VersionTLS12},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// VerifyToken checks tok's signature against the tenant's published JWKS
// and returns its claims.
func (e *Env) VerifyToken(t testing.TB, tenant, tok string) jwt.MapClaims {
	t.Helper()
	keys, err := FetchJWKS(e.HTTPClient, e.URL+"/"+tenant+"/discovery/v2.0/keys")
	if err != nil {
		t.Fatalf("fetch JWKS: %v", err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		return keys[kid], nil
	}, jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		t.Fatalf("verify token: %v", err)
	}
	return claims
}

// DefaultWorld has one tenant, one subscription and one resource group.
const DefaultWorld = `
tenants:
  - id: 11111111-0000-0000-0000-000000000001
    name: test
    subscriptions:
      - id: 22222222-0000-0000-0000-000000000001
        name: test-sub
        resourceGroups:
          - name: rg
            location: westus2
`

package acrcred_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/cloud"
)

func TestProviderCredentialsPullWithAcrPull(t *testing.T) {
	n := startNode(t, cloud.RegistrySpec{})
	n.grant(t, n.identity(t, "kubelet").PrincipalID, "AcrPull")
	// AKS names the kubelet identity by client ID; a resource ID works too.
	byResourceID := n.msiConfig(t, "kubelet")
	byResourceID.UserAssignedIdentityID = n.identity(t, "kubelet").ID
	for _, cfg := range []acrcred.AzureConfig{byResourceID, n.msiConfig(t, "kubelet")} {
		if _, err := n.client(t, cfg, "", nil).Credentials(context.Background(), regLogin+"/app/web:v1"); err != nil {
			t.Fatalf("%s: %v", cfg.UserAssignedIdentityID, err)
		}
	}
	c := n.client(t, n.msiConfig(t, "kubelet"), "", nil)
	resp, err := c.Credentials(context.Background(), regLogin+"/app/web:v1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.CacheKeyType != "Registry" || resp.CacheDuration == nil || resp.CacheDuration.Duration != acrcred.DefaultCacheDuration {
		t.Fatalf("cache = %s %v", resp.CacheKeyType, resp.CacheDuration)
	}
	if a := resp.Auth[regLogin]; a.Username != "00000000-0000-0000-0000-000000000000" || a.Password == "" {
		t.Fatalf("auth for %s = user %q, password set %v", regLogin, a.Username, a.Password != "")
	}
	if a, ok := resp.Auth["*.azurecr.*"]; !ok || a.Username != "" || a.Password != "" || len(resp.Auth) != 2 {
		t.Fatalf("auth keys = %v", keys(resp.Auth))
	}
	if err := n.pull(t, resp, regLogin+"/app/web:v1"); err != nil {
		t.Fatalf("pull with the provider's credentials: %v", err)
	}
}

func TestProviderAnswersOtherRegistriesWithNothing(t *testing.T) {
	n := startNode(t, cloud.RegistrySpec{})
	c := n.client(t, n.msiConfig(t, "kubelet"), "", nil)
	for _, image := range []string{"nginx:1.27", "docker.io/library/nginx:1.27", "mcr.microsoft.com/oss/kubernetes/pause:3.10", "ghcr.io/podidacr.azurecr.io/x:1"} {
		resp, err := c.Credentials(context.Background(), image)
		if err != nil || len(resp.Auth) != 0 || resp.CacheDuration.Duration != 0 {
			t.Fatalf("%s: %+v, %v", image, resp, err)
		}
	}
}

func TestProviderRegistryMirror(t *testing.T) {
	n := startNode(t, cloud.RegistrySpec{})
	n.grant(t, n.identity(t, "kubelet").PrincipalID, "AcrPull")
	c := n.client(t, n.msiConfig(t, "kubelet"), "mcr.microsoft.com:"+regLogin, nil)
	resp, err := c.Credentials(context.Background(), "mcr.microsoft.com/app/web:v1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Auth["mcr.microsoft.com"] != resp.Auth[regLogin] || resp.Auth[regLogin].Password == "" {
		t.Fatalf("mirror source and target differ: %v", keys(resp.Auth))
	}
	// The mirror's target serves the image under the same path.
	if err := n.pull(t, resp, regLogin+"/app/web:v1"); err != nil {
		t.Fatal(err)
	}
}

// The exchange checks no role: without AcrPull the provider still answers
// a refresh token, and the pull is what fails, with 401.
func TestProviderWithoutAcrPullStillAnswersButThePullFails(t *testing.T) {
	n := startNode(t, cloud.RegistrySpec{})
	c := n.client(t, n.msiConfig(t, "kubelet"), "", nil)
	resp, err := c.Credentials(context.Background(), regLogin+"/app/web:v1")
	if err != nil {
		t.Fatalf("the provider refused: %v", err)
	}
	if err := n.pull(t, resp, regLogin+"/app/web:v1"); status(err) != http.StatusUnauthorized {
		t.Fatalf("pull without AcrPull = %v, want 401", err)
	}
}

func TestProviderFailuresCarryCauseAndFix(t *testing.T) {
	cases := map[string]struct {
		spec cloud.RegistrySpec
		cfg  func(*node, *testing.T) acrcred.AzureConfig
		want []string
	}{
		"a firewall refuses the exchange with 403 DENIED": {
			spec: cloud.RegistrySpec{DefaultAction: "Deny", IPRules: []string{"10.1.0.0/16"}},
			cfg:  func(n *node, t *testing.T) acrcred.AzureConfig { return n.msiConfig(t, "kubelet") },
			want: []string{"exchange: POST https://podidacr.azurecr.io/oauth2/exchange answered 403 DENIED: client with IP '127.0.0.1' is not allowed access",
				"cause: the network rules of registry podidacr refuse this node's address 127.0.0.1 (403 DENIED)", "fix: allow the node's address: az acr network-rule add --name podidacr --ip-address 127.0.0.1"},
		},
		"an expired service principal secret fails at Azure AD with AADSTS7000222": {
			cfg: func(n *node, t *testing.T) acrcred.AzureConfig { return n.spConfig(t, "expired-sp", "old-secret") },
			want: []string{"aad-token: ask AAD for kubelet service principal: token endpoint answered 401 invalid_client: AADSTS7000222",
				"cause: the client secret of the kubelet's service principal", "has expired (AADSTS7000222)", "--reset-service-principal"},
		},
		"an identity the node does not carry is unknown to IMDS": {
			cfg:  func(n *node, t *testing.T) acrcred.AzureConfig { return n.msiConfig(t, "elsewhere") },
			want: []string{"aad-token: ask IMDS for kubelet identity", "cause: IMDS does not know the kubelet identity", "fix: assign it: az vmss identity assign"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, tc.spec)
			c := n.client(t, tc.cfg(n, t), "", nil)
			_, err := c.Credentials(context.Background(), regLogin+"/app/web:v1")
			var f *acrcred.Failure
			if !errors.As(err, &f) {
				t.Fatalf("error = %v, want a *Failure", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestProviderServicePrincipalExchangesItsSecret(t *testing.T) {
	n := startNode(t, cloud.RegistrySpec{})
	n.grant(t, n.app(t, "kubelet-sp").ObjectID, "AcrPull")
	c := n.client(t, n.spConfig(t, "kubelet-sp", "sp-secret"), "", nil)
	resp, err := c.Credentials(context.Background(), regLogin+"/app/web:v1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resp.Auth[regLogin].Password, "sp-secret") {
		t.Fatal("the secret itself was handed out")
	}
	if err := n.pull(t, resp, regLogin+"/app/web:v1"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkProviderCredentials measures one kubelet exec's worth of work
// (challenge, IMDS token, exchange) against the embedded cloud and
// reports the registry exchanges per call. The provider keeps no cache of
// its own: it is a process per image, and the kubelet caches the answer
// for cacheDuration (an hour), so a node exchanges about once an hour per
// registry.
func BenchmarkProviderCredentials(b *testing.B) {
	n := startNode(b, cloud.RegistrySpec{})
	counter, imds := &countingTransport{next: n.tr}, &countingTransport{next: n.imds.Transport}
	o := acrcred.NewOptions(func(string) string { return "" })
	c, err := acrcred.New(n.msiConfig(b, "kubelet"), *o, acrcred.Deps{HTTPS: &http.Client{Transport: counter}, IMDS: &http.Client{Transport: imds}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Credentials(ctx, regLogin+"/app/web:v1"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(counter.exchanges)/float64(b.N), "exchanges/op")
	b.ReportMetric(float64(counter.requests)/float64(b.N), "registry-requests/op")
	b.ReportMetric(float64(imds.requests)/float64(b.N), "imds-requests/op")
}

type countingTransport struct {
	next                http.RoundTripper
	requests, exchanges int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests++
	if r.URL.Path == "/oauth2/exchange" {
		c.exchanges++
	}
	return c.next.RoundTrip(r)
}

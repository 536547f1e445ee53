package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	v1 "github.com/podid/podid/api/v1"
)

// startAgent serves the handler on loopback and returns a client whose
// connections to 169.254.169.254:80 reach it, as iptables would send them.
func startAgent(t *testing.T, h http.Handler) *http.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "169.254.169.254:80" {
			addr = srv.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// seen records the requests that reached the agent.
type seen struct {
	mu   sync.Mutex
	reqs []string
	next http.Handler
}

func (s *seen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r.URL.RequestURI()+" metadata="+r.Header.Get("Metadata"))
	s.mu.Unlock()
	s.next.ServeHTTP(w, r)
}

func clearAzureEnv(t *testing.T) {
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_SECRET",
		"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_TOKEN_CREDENTIALS", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
		"MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		t.Setenv(k, "") // restores the old value after the test
		_ = os.Unsetenv(k)
	}
}

func newLoopbackEnv(t *testing.T) *env {
	e := newEnv(t, func(o *Options) { o.Now = time.Now })
	e.tokens.now = time.Now
	e.cluster.addPod("127.0.0.1", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	return e
}

func TestManagedIdentityCredentialGetsTheBoundIdentitysToken(t *testing.T) {
	clearAzureEnv(t)
	e := newLoopbackEnv(t)
	client := startAgent(t, e.handler)
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: client},
		ID:            azidentity.ClientID(clientA),
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://mi-success.example/.default"}})
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	if tok.Token != fakeJWT(clientA) {
		t.Fatalf("token %q", tok.Token)
	}
	if d := time.Until(tok.ExpiresOn); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires in %s", d)
	}
}

func TestManagedIdentityCredentialForAnotherIdentityGetsIMDSNotFound(t *testing.T) {
	clearAzureEnv(t)
	e := newLoopbackEnv(t)
	client := startAgent(t, e.handler)
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: client, Retry: policy.RetryOptions{MaxRetries: -1}},
		ID:            azidentity.ClientID(clientB),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://mi-other.example/.default"}})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		t.Fatalf("error %v (%T), want AuthenticationFailedError", err, err)
	}
	if afe.RawResponse == nil || afe.RawResponse.StatusCode != 400 {
		t.Fatalf("raw response %+v", afe.RawResponse)
	}
	// azcore pretty-prints the body it read into the error text.
	for _, want := range []string{`"error": "invalid_request"`, `"error_description": "Identity not found: `} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error text lacks %s: %v", want, err)
		}
	}
}

func TestDefaultAzureCredentialProbeIsAnsweredAndTokenFollows(t *testing.T) {
	clearAzureEnv(t)
	e := newLoopbackEnv(t)
	rec := &seen{next: e.handler}
	client := startAgent(t, rec)
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: client},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://dac.example/.default"}})
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	if tok.Token != fakeJWT(clientA) {
		t.Fatalf("token %q", tok.Token)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) < 2 || rec.reqs[0] != "/metadata/identity/oauth2/token metadata=" {
		t.Fatalf("requests %q, want the probe (no query, no Metadata) first", rec.reqs)
	}
}

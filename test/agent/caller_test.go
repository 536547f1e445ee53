package agent

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	corev1 "k8s.io/api/core/v1"
)

// imdsAddress is where real clients send IMDS requests.
const imdsAddress = "169.254.169.254:80"

// caller is a process speaking from source to the agent at agent, as a pod
// whose metadata traffic iptables redirects.
type caller struct {
	source string
	agent  string
}

// podCaller speaks as pod, to the agent of the pod's node.
func podCaller(t testing.TB, pod *corev1.Pod) caller {
	t.Helper()
	a, ok := s.agents[pod.Spec.NodeName]
	if !ok {
		t.Fatalf("no agent on node %q of pod %s", pod.Spec.NodeName, pod.Name)
	}
	if pod.Status.PodIP == "" {
		t.Fatalf("pod %s has no IP", pod.Name)
	}
	return caller{source: pod.Status.PodIP, agent: a.addr}
}

// httpClient dials from the caller's source address and sends connections
// for 169.254.169.254:80 to the agent.
func (c caller) httpClient(t testing.TB) *http.Client {
	local := &net.TCPAddr{IP: net.ParseIP(c.source)}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == imdsAddress {
				addr = c.agent
			}
			return (&net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// managedIdentity is a real ManagedIdentityCredential speaking as c; id may
// be nil (no selector). With noRetry, a refusal surfaces at once.
func (c caller) managedIdentity(t testing.TB, id azidentity.ManagedIDKind, noRetry bool) azcore.TokenCredential {
	t.Helper()
	opts := policy.ClientOptions{Transport: c.httpClient(t)}
	if noRetry {
		opts.Retry.MaxRetries = -1
	}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: id})
	if err != nil {
		t.Fatalf("create ManagedIdentityCredential: %v", err)
	}
	return cred
}

// defaultCredential is a real DefaultAzureCredential speaking as c (the
// AZURE_* variables are unset by TestMain, so it reaches managed identity).
func (c caller) defaultCredential(t testing.TB) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: c.httpClient(t)},
	})
	if err != nil {
		t.Fatalf("create DefaultAzureCredential: %v", err)
	}
	return cred
}

// answer is a raw HTTP answer.
type answer struct {
	status     int
	retryAfter string
	body       string
}

// get sends GET path with the Metadata header (unless metadata is false)
// from the caller to the agent.
func (c caller) get(t testing.TB, path string, metadata bool) answer {
	t.Helper()
	if metadata {
		return c.getWith(t, path, map[string]string{"Metadata": "true"})
	}
	return c.getWith(t, path, nil)
}

// getWith sends GET path with headers from the caller to the agent.
func (c caller) getWith(t testing.TB, path string, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+imdsAddress+path, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.httpClient(t).Do(req)
	if err != nil {
		t.Fatalf("GET %s from %s: %v", path, c.source, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer to GET %s: %v", path, err)
	}
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
}

var resourceSeq atomic.Int64

// freshResource returns a resource no earlier request used: MSAL Go caches
// managed-identity tokens process-wide by identity and resource, so reusing
// one would hide whether the agent served the request.
func freshResource(what string) string {
	return "https://" + strings.ToLower(what) + "-" + strconv.FormatInt(resourceSeq.Add(1), 10) + ".podid.test"
}

// token asks cred for a token of resource.
func token(ctx context.Context, cred azcore.TokenCredential, resource string) (azcore.AccessToken, error) {
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{resource + "/.default"}})
}

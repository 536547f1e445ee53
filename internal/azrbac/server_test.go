package azrbac_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/azrbac"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

// startWebhook runs the webhook for the test world's cluster and returns
// its URL and a client that trusts it.
func startWebhook(t *testing.T) (*cloudtest.Env, string, *http.Client) {
	t.Helper()
	env := cloudtest.StartYAML(t, world)
	cert, caPEM, err := azrbac.SelfSignedCert([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := azrbac.NewServer("127.0.0.1:0", cert, azrbac.Policy{ClusterID: clusterID}, azrbac.CloudDirectory{Cloud: env.Cloud}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return env, srv.URL(), &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(pool)}, Timeout: 5 * time.Second}
}

func post(t *testing.T, c *http.Client, url string, body []byte) (int, string, authzv1.SubjectAccessReview) {
	t.Helper()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out authzv1.SubjectAccessReview
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, string(b), out
}

func review(spec authzv1.SubjectAccessReviewSpec) []byte {
	b, _ := json.Marshal(authzv1.SubjectAccessReview{TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SubjectAccessReview"}, Spec: spec})
	return b
}

func TestReviewsOverHTTP(t *testing.T) {
	env, url, c := startWebhook(t)
	if _, err := env.Cloud.GrantRole(aliceOID, "Azure Kubernetes Service RBAC Cluster Admin", clusterID); err != nil {
		t.Fatal(err)
	}
	getPods := &authzv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "dev"}
	cases := map[string]struct {
		spec    authzv1.SubjectAccessReviewSpec
		allowed bool
		denied  bool
		reason  string
	}{
		"a cluster admin by user name is allowed": {
			authzv1.SubjectAccessReviewSpec{User: "alice@contoso.com", ResourceAttributes: getPods}, true, false, azrbac.ReasonAllowed},
		"Extra oid names the caller, whatever the user name": {
			authzv1.SubjectAccessReviewSpec{User: "someone", Extra: map[string]authzv1.ExtraValue{"oid": {aliceOID}}, ResourceAttributes: getPods}, true, false, azrbac.ReasonAllowed},
		"an object ID as user name works too": {
			authzv1.SubjectAccessReviewSpec{User: aliceOID, ResourceAttributes: getPods}, true, false, azrbac.ReasonAllowed},
		"a person with no role is denied": {
			authzv1.SubjectAccessReviewSpec{User: "bob@contoso.com", ResourceAttributes: getPods}, false, true, azrbac.ReasonDenied},
		"a stranger gets no opinion": {
			authzv1.SubjectAccessReviewSpec{User: "mallory", ResourceAttributes: getPods}, false, false, azrbac.ReasonNonAADNoOpinion},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, body, out := post(t, c, url, review(tc.spec))
			if status != http.StatusOK || out.Status.Allowed != tc.allowed || out.Status.Denied != tc.denied || out.Status.Reason != tc.reason {
				t.Errorf("answer = %d %s", status, body)
			}
			if out.APIVersion != "authorization.k8s.io/v1" || out.Kind != "SubjectAccessReview" {
				t.Errorf("answer type = %s %s", out.APIVersion, out.Kind)
			}
		})
	}
}

func TestReviewRefusals(t *testing.T) {
	_, url, c := startWebhook(t)
	v1beta1, _ := json.Marshal(map[string]any{"apiVersion": "authorization.k8s.io/v1beta1", "kind": "SubjectAccessReview", "spec": map[string]any{"user": "a"}})
	for name, tc := range map[string]struct {
		body []byte
		want string
	}{
		"not JSON":           {[]byte("{"), "send an authorization.k8s.io/v1 SubjectAccessReview"},
		"an older API group": {v1beta1, "--authorization-webhook-version=v1"},
	} {
		if status, body, _ := post(t, c, url, tc.body); status != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %q, want 400 naming %q", name, status, body, tc.want)
		}
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /authorize = %d, want 405", resp.StatusCode)
	}
}

func TestNewServerNeedsAClusterID(t *testing.T) {
	_, err := azrbac.NewServer("127.0.0.1:0", tlsCertOrFail(t), azrbac.Policy{}, nil, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "managedClusters/<name>") {
		t.Errorf("NewServer without a cluster = %v, want an error naming the ID to pass", err)
	}
}

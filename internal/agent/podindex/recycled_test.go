package podindex

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
)

// TestNoIdentityFollowsARecycledIP runs token requests through the real
// token server over an Index: whatever pods share an IP, or however a pod
// was recreated, a request gets the identity of the pod that holds the IP
// now or none, never a predecessor's.
func TestNoIdentityFollowsARecycledIP(t *testing.T) {
	const ip = "10.0.0.5"
	// assignedTo is an assignment of id1 as mic writes it, for the pod.
	assignedTo := func(p *corev1.Pod) *v1.AzureAssignedIdentity {
		a := aai(p.Name+"-default-id1", p.Name, "id1", v1.AssignedIDAssigned)
		a.Annotations = map[string]string{v1.PodUIDAnnotation: string(p.UID)}
		return a
	}
	old := pod("old", ip, labelled("id1-selector"))
	cases := map[string]struct {
		pods     []*corev1.Pod
		assigned []*v1.AzureAssignedIdentity
		// status is the HTTP status answered.
		status int
		// retryAfter is the Retry-After header wanted, "" for none.
		retryAfter string
		// body is a part of the answer's body.
		body string
	}{
		"the pod alone at its IP gets its identity": {
			pods: []*corev1.Pod{old}, assigned: []*v1.AzureAssignedIdentity{assignedTo(old)},
			status: http.StatusOK, body: "token-of-id1-client"},
		"two running pods at one IP are refused with 503 and Retry-After": {
			pods:     []*corev1.Pod{old, pod("new", ip)},
			assigned: []*v1.AzureAssignedIdentity{assignedTo(old)},
			status:   http.StatusServiceUnavailable, retryAfter: "5", body: "several pods of this node have address " + ip},
		"a new pod at the IP of a deleted pod still shutting down waits with 503 and Retry-After": {
			pods:     []*corev1.Pod{pod("old", ip, labelled("id1-selector"), deleting, containers("running")), pod("new", ip)},
			assigned: []*v1.AzureAssignedIdentity{assignedTo(old)},
			status:   http.StatusServiceUnavailable, retryAfter: "5", body: "several pods of this node have address " + ip},
		"a new pod at the IP of a deleted pod whose containers stopped gets none of its identities": {
			pods:     []*corev1.Pod{pod("old", ip, labelled("id1-selector"), deleting, containers("terminated")), pod("new", ip)},
			assigned: []*v1.AzureAssignedIdentity{assignedTo(old)},
			status:   http.StatusBadRequest, body: "no identity is assigned to pod default/new"},
		"a new pod at the IP of a failed pod gets none of its identities": {
			pods:     []*corev1.Pod{pod("old", ip, labelled("id1-selector"), phase(corev1.PodFailed)), pod("new", ip)},
			assigned: []*v1.AzureAssignedIdentity{assignedTo(old)},
			status:   http.StatusBadRequest, body: "no identity is assigned to pod default/new"},
		"a pod recreated under the same name does not use its predecessor's assignment": {
			pods:     []*corev1.Pod{pod("old", ip, labelled("id1-selector"), func(p *corev1.Pod) { p.UID = "uid-recreated" })},
			assigned: []*v1.AzureAssignedIdentity{assignedTo(old)},
			status:   http.StatusBadRequest, body: "no identity is assigned to pod default/old"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			x := newTestIndex(t)
			a := aai("", "", "id1", "")
			_ = x.bindings.Add(a.Spec.AzureBindingRef)
			_ = x.identities.Add(a.Spec.AzureIdentityRef)
			for _, p := range tc.pods {
				_ = x.pods.Add(p)
			}
			for _, a := range tc.assigned {
				_ = x.assigned.Add(a)
			}
			var served atomic.Int32
			h, err := server.New(server.Options{
				Tokens: tokens.TokenSourceFunc(func(_ context.Context, r tokens.Request) (tokens.Token, error) {
					served.Add(1)
					return tokens.Token{AccessToken: "token-of-" + r.Identity.ClientID, ExpiresOn: time.Unix(1_760_003_600, 0)}, nil
				}),
				Pods: x, Identities: x,
				Now:    func() time.Time { return time.Unix(1_760_000_000, 0) },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net", nil)
			r.RemoteAddr = ip + ":40000"
			r.Header.Set("Metadata", "true")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter || !strings.Contains(w.Body.String(), tc.body) {
				t.Fatalf("answered %d, Retry-After %q: %s\nwant %d, Retry-After %q, body with %q",
					w.Code, w.Header().Get("Retry-After"), w.Body.String(), tc.status, tc.retryAfter, tc.body)
			}
			if tc.status != http.StatusOK && served.Load() != 0 {
				t.Fatalf("a refused request fetched %d tokens", served.Load())
			}
		})
	}
}

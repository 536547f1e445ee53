package agent

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// strangerIP is in node-0's pod CIDR, but no pod has it.
const strangerIP = "127.64.15.200"

// tokenPath is what a real client asks for resource.
func tokenPath(resource string) string {
	return "/metadata/identity/oauth2/token?" + url.Values{"api-version": {"2018-02-01"}, "resource": {resource}}.Encode()
}

// imdsErrorBody is the flat IMDS error body.
func imdsErrorBody(t testing.TB, code, description string) string {
	t.Helper()
	b, err := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCallersThatMustNotGetATokenGetNone: a pod without a binding, an
// address no pod has, and a hostNetwork pod (bound) are refused with IMDS
// error bodies (the research notes' body where one is documented), real
// clients get no token, and the unknown caller never reaches the node's
// IMDS, not even on the paths known pods may have proxied.
func TestCallersThatMustNotGetATokenGetNone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := s.env.NewNamespace(t)
	id := managedIdentity(t, fedIdentity)
	create(ctx, t, azureIdentity(ns, "fed", id, ""), binding(ns, "b", "fed", "bound"))
	node := s.env.Nodes[0].Name
	unbound := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "unbound", Node: node,
		Labels: map[string]string{podidv1.SelectorLabel: "nobody-binds-this"}})
	hostnet := runPod(ctx, t, testenv.PodSpec{Namespace: ns, Name: "hostnet", Node: node, HostNetwork: true,
		Labels: map[string]string{podidv1.SelectorLabel: "bound"}})
	stranger := caller{source: strangerIP, agent: s.agents[node].addr}

	cases := map[string]struct {
		// from is who calls.
		from caller
		// status, retryAfter and body are the exact answer to a token request.
		status     int
		retryAfter string
		body       string
	}{
		"A pod no binding selects is told its identity is not found": {
			from: podCaller(t, unbound), status: 400,
			// Research §1.3: 400 invalid_request "Identity not found", with what to check appended.
			body: imdsErrorBody(t, "invalid_request", "Identity not found: no identity is assigned to pod "+ns+
				"/unbound; check that its aadpodidbinding label matches an AzureIdentityBinding of an existing AzureIdentity"),
		},
		"An address no pod of the node has is told to retry and gets nothing": {
			from: stranger, status: 503, retryAfter: "5",
			body: imdsErrorBody(t, "temporarily_unavailable", "no running pod of this node has address "+strangerIP+
				"; a new pod is retried shortly, anything else gets no token"),
		},
		"A bound hostNetwork pod is refused because its address is the node's": {
			from: podCaller(t, hostnet), status: 403,
			body: imdsErrorBody(t, "access_denied", "pod "+ns+"/hostnet uses the host network, so its requests cannot be told apart from the node's "+
				"and it gets no pod identity; run it without hostNetwork, or exempt it with an AzurePodIdentityException to use the node's own identities"),
		},
	}
	imdsBefore := imdsRequests(t)
	t.Run("Refusals", func(t *testing.T) {
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel() // each waits out the agent's assignment wait
				got := tc.from.get(t, tokenPath(freshResource("refused")), true)
				if got.status != tc.status || got.retryAfter != tc.retryAfter || got.body != tc.body {
					t.Errorf("answer = %d Retry-After %q %s\nwant     %d Retry-After %q %s", got.status, got.retryAfter, got.body, tc.status, tc.retryAfter, tc.body)
				}
				if _, err := token(ctx, tc.from.managedIdentity(t, nil, true), freshResource("refused")); err == nil {
					t.Error("ManagedIdentityCredential got a token")
				}
			})
		}
	})

	t.Run("The unknown caller never reaches the node's IMDS", func(t *testing.T) {
		for _, p := range []string{"/metadata/instance?api-version=2021-02-01", "/metadata/scheduledevents?api-version=2020-07-01", tokenPath("https://management.azure.com")} {
			if got := stranger.get(t, p, true); got.status < 400 {
				t.Errorf("GET %s from %s = %d %s, want a refusal", p, strangerIP, got.status, got.body)
			}
		}
		if after := imdsRequests(t); after != imdsBefore {
			t.Errorf("node IMDS requests went from %v to %v while only refused callers called", imdsBefore, after)
		}
		// The same path from a known pod is passed on, so the count above
		// would have seen a leak.
		if got := podCaller(t, unbound).get(t, "/metadata/instance?api-version=2021-02-01", true); got.status != 404 {
			t.Errorf("known pod's /metadata/instance = %d %s, want the embedded IMDS's 404", got.status, got.body)
		}
		if after := imdsRequests(t); after != imdsBefore+1 {
			t.Errorf("a known pod's /metadata/instance made node IMDS requests go from %v to %v, want one more", imdsBefore, after)
		}
	})

	t.Run("A request without the Metadata header gets the exact IMDS body", func(t *testing.T) {
		got := podCaller(t, unbound).get(t, tokenPath("https://management.azure.com"), false)
		// Research §1.3: real IMDS's 88-byte body.
		want := `{"error":"invalid_request","error_description":"Required metadata header not specified"}`
		if got.status != 400 || got.body != want || len(got.body) != 88 {
			t.Errorf("answer = %d %s, want 400 %s", got.status, got.body, want)
		}
	})
}

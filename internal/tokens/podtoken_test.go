package tokens

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPodTokenSourceExchangesTheFileItReadsEachTime(t *testing.T) {
	current := "pod-token-1"
	_, opts := fakeAAD(t, func(r *http.Request) string {
		if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || r.PostForm.Get("client_assertion") != current {
			return "AADSTS70021: No matching federated identity record found for presented assertion."
		}
		return ""
	})
	src, err := NewPodToken(opts)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	req := aadRequest()
	req.Identity.AssertionFile = file
	for _, tok := range []string{"pod-token-1", "pod-token-2"} { // the kubelet rotates the file
		current = tok
		if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := src.Token(context.Background(), req); err != nil || got.AccessToken != "aad-token" {
			t.Fatalf("with %s: token %+v, %v", tok, got, err)
		}
	}

	refusals := map[string]struct {
		setup func() Request
		want  string
	}{
		"the token file is gone": {func() Request {
			r := req
			r.Identity.AssertionFile = filepath.Join(t.TempDir(), "missing")
			return r
		}, "read the pod's projected service-account token"},
		"the token file is empty": {func() Request {
			r := req
			r.Identity.AssertionFile = filepath.Join(t.TempDir(), "empty")
			_ = os.WriteFile(r.Identity.AssertionFile, nil, 0o600)
			return r
		}, "read the pod's projected service-account token"},
		"no client ID": {func() Request {
			r := req
			r.Identity.ClientID = ""
			return r
		}, "annotate its service account with azure.workload.identity/client-id"},
		"AAD trusts no credential for this token": {func() Request {
			_ = os.WriteFile(file, []byte("someone-else"), 0o600)
			return req
		}, "AADSTS70021"},
	}
	for name, c := range refusals {
		t.Run(name, func(t *testing.T) {
			if _, err := src.Token(context.Background(), c.setup()); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestRouteSendsWorkloadIdentityPodsToTheirOwnToken(t *testing.T) {
	o := RouterOptions{Default: ModeNode, Node: TokenSourceFunc(nil), Federated: TokenSourceFunc(nil), PodToken: TokenSourceFunc(nil)}
	for _, mode := range []Mode{ModeDefault, ModeNode, ModeFederated} {
		if _, got := route(o, Identity{Type: 0, Mode: mode, AssertionFile: "/t"}); got != "pod's own service-account token" {
			t.Errorf("mode %q: routed to %q", mode, got)
		}
	}
	if a, b := (Identity{Name: "sa/x", ClientID: "c"}), (Identity{Name: "sa/x", ClientID: "c", AssertionFile: "/t"}); a.Key() == b.Key() {
		t.Error("a pod-token identity shares its cache key with a node identity of the same name")
	}
}

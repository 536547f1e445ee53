package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	v1 "github.com/podid/podid/api/v1"
)

func TestClassifyPath(t *testing.T) {
	cases := map[string]struct {
		path string
		want pathKind
	}{
		"the token path": {"/metadata/identity/oauth2/token", pathToken},
		"the token path with /metadata in capitals":       {"/METADATA/identity/oauth2/token", pathToken},
		"a token path with the rest in capitals":          {"/metadata/IDENTITY/oauth2/token", pathIdentity},
		"a token path with a trailing slash":              {"/metadata/identity/oauth2/token/", pathIdentity},
		"a token path with a repeated slash":              {"/metadata//identity/oauth2/token", pathIdentity},
		"a token path with a dot segment":                 {"/metadata/./identity/oauth2/token", pathIdentity},
		"a token path climbing out and back":              {"/metadata/instance/../identity/oauth2/token", pathIdentity},
		"a token path with an escaped letter":             {"/metadata/identity/oauth2/%74oken", pathIdentity},
		"a token path with an escaped slash":              {"/metadata/identity%2Foauth2/token", pathIdentity},
		"a token path escaped twice":                      {"/metadata/identity/oauth2/%2574oken", pathIdentity},
		"a token path with backslashes":                   {"/metadata\\identity\\oauth2\\token", pathIdentity},
		"a token path reached from another prefix":        {"/foo/../metadata/identity/oauth2/token", pathIdentity},
		"an unknown identity path":                        {"/metadata/identity/info", pathIdentity},
		"the identity folder itself":                      {"/metadata/identity", pathIdentity},
		"IMDSv2 platform metadata":                        {"/metadata/identity/getplatformmetadata", pathIMDSv2},
		"IMDSv2 credential issuing":                       {"/metadata/identity/issuecredential", pathIMDSv2},
		"host token":                                      {"/host/token", pathHostToken},
		"host token with the CSI driver's trailing slash": {"/host/token/", pathHostToken},
		"host token with a repeated slash":                {"/host//token", pathNonCanonical},
		"instance metadata":                               {"/metadata/instance", pathInstance},
		"instance compute metadata":                       {"/metadata/instance/compute/location", pathInstance},
		"instance metadata with a trailing slash":         {"/metadata/instance/", pathNonCanonical},
		"instance metadata with an escape":                {"/metadata/instanc%65", pathNonCanonical},
		"scheduled events":                                {"/metadata/scheduledevents", pathOther},
		"the root":                                        {"/", pathOther},
		"an empty path":                                   {"", pathNonCanonical},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := classifyPath(tc.path); got != tc.want {
				t.Fatalf("classifyPath(%q) = %d, want %d", tc.path, got, tc.want)
			}
		})
	}
}

// FuzzClassifyPath holds the invariants that keep the node's IMDS shut:
// a path that may be passed on is spelled canonically and no reading of
// it is an identity path, and the token path is served in one spelling
// only (up to the case of /metadata).
func FuzzClassifyPath(f *testing.F) {
	for _, s := range []string{"/metadata/identity/oauth2/token", "/metadata//identity/oauth2/token", "/metadata/%69dentity/oauth2/token",
		"/metadata/instance/compute", "/host/token/", "/metadata/instance/..%2Fidentity/oauth2/token", "/a/b/../c", "\\metadata\\identity"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		kind := classifyPath(p)
		canon := canonicalPath(p)
		switch kind {
		case pathInstance, pathOther:
			if !isCanonical(p) {
				t.Fatalf("%q may be passed on but is not canonical", p)
			}
			if canon == "/metadata/identity" || strings.HasPrefix(canon, "/metadata/identity/") {
				t.Fatalf("%q may be passed on but reads as %q", p, canon)
			}
		case pathToken:
			if !strings.EqualFold(p, "/metadata"+tokenPath) || p[len("/metadata"):] != tokenPath {
				t.Fatalf("%q is served as the token path", p)
			}
		}
	})
}

// TestNoSpellingReachesTheNodeIMDS runs the handler with every pass-through
// enabled and a node IMDS that records what reaches it.
func TestNoSpellingReachesTheNodeIMDS(t *testing.T) {
	var seen []string
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.EscapedPath())
		_, _ = w.Write([]byte(`{"access_token":"node identity"}`))
	}))
	defer imds.Close()
	u, _ := url.Parse(imds.URL)
	e := newEnv(t, func(o *Options) { o.NodeIMDS = u; o.InstanceMetadata = Proxy; o.OtherPaths = Proxy })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	q := "?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"
	for _, p := range []string{"/metadata/identity/oauth2/token/", "/metadata//identity/oauth2/token", "/metadata/IDENTITY/oauth2/token",
		"/metadata/./identity/oauth2/token", "/metadata/instance/../identity/oauth2/token", "/metadata/identity/oauth2/%74oken",
		"/metadata/identity%2Foauth2%2Ftoken", "/metadata/instance/..%2F..%2Fmetadata/identity/oauth2/token", "/metadata\\identity\\oauth2\\token",
		"/metadata/identity/oauth2/token;x", "/metadata/instance/"} {
		t.Run(p, func(t *testing.T) {
			w := e.do("GET", p+q, "10.0.0.5", md)
			if len(seen) != 0 || strings.Contains(w.Body.String(), "node identity") {
				t.Fatalf("%s reached the node's IMDS (%v): %d %s", p, seen, w.Code, w.Body)
			}
			if w.Code != http.StatusBadRequest {
				t.Fatalf("%s: status %d, want 400: %s", p, w.Code, w.Body)
			}
		})
	}
	// The canonical spellings the operator allowed are still passed on.
	for _, p := range []string{"/metadata/instance/compute", "/metadata/scheduledevents"} {
		if w := e.do("GET", p+"?api-version=2021-02-01", "10.0.0.5", md); w.Code != 200 {
			t.Fatalf("%s: status %d, want it passed on: %s", p, w.Code, w.Body)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("the node's IMDS saw %v, want the two allowed paths", seen)
	}
}

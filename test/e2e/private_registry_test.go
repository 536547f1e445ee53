package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// privateRegistry stands in for a private Docker Hub repository (seed 001
// sample 4): a real OCI registry (go-containerregistry's) behind Docker
// Hub's token auth. Every request to /v2/ needs a bearer token from the
// realm; the realm gives anyone an anonymous token, which grants nothing,
// so a pull without credentials gets Docker Hub's 401 with
// error="insufficient_scope"; a token for the registry's one user and
// password grants pull and push. It listens on loopback only; the real
// node reaches it under Host through containerd's hosts.toml (podid up
// --node-registry), so no name is ever looked up.
type privateRegistry struct {
	// Host is the name images carry (hub.private.test/team/busybox).
	Host string
	// URL is where it listens, http://127.0.0.1:PORT.
	URL string
	// User and Password are the one account; Password is a secret and
	// never logged.
	User, Password string

	srv    *httptest.Server
	mu     sync.Mutex
	tokens map[string]bool // token → grants access (false: anonymous)
	// AnonymousTokens and UserTokens count the tokens given out, to tell
	// which credentials a pull used.
	AnonymousTokens, UserTokens atomic.Int64
}

// startPrivateRegistry serves a private registry under host until the test ends.
func startPrivateRegistry(t *testing.T, host string) *privateRegistry {
	t.Helper()
	r := &privateRegistry{Host: host, User: "podid-e2e", Password: randomHex(t), tokens: map[string]bool{}}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	mux := http.NewServeMux()
	mux.HandleFunc("/token", r.token)
	mux.Handle("/v2/", r.authorize(inner))
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	r.URL = r.srv.URL
	return r
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// token is the realm, as auth.docker.io answers it: GET with or without
// Basic, or the OAuth POST (grant_type=password) containerd tries first
// when it has credentials. Wrong credentials get 401.
func (r *privateRegistry) token(w http.ResponseWriter, req *http.Request) {
	user, pass, basic := req.BasicAuth()
	given := basic
	if req.Method == http.MethodPost {
		if err := req.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if req.PostForm.Get("grant_type") != "password" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		user, pass, given = req.PostForm.Get("username"), req.PostForm.Get("password"), true
	}
	if given && (user != r.User || pass != r.Password) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprint(w, `{"details":"incorrect username or password"}`)
		return
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	tok := hex.EncodeToString(b)
	r.mu.Lock()
	r.tokens[tok] = given
	r.mu.Unlock()
	if given {
		r.UserTokens.Add(1)
	} else {
		r.AnonymousTokens.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
}

// authorize lets a request with a user's token through; anything else
// gets Docker Hub's challenge, with error="insufficient_scope" when the
// token is valid but grants nothing (anonymous).
func (r *privateRegistry) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tok, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		r.mu.Lock()
		granted, known := r.tokens[tok]
		r.mu.Unlock()
		if granted {
			next.ServeHTTP(w, req)
			return
		}
		challenge := fmt.Sprintf(`Bearer realm="%s/token",service="%s"`, r.URL, r.Host)
		detail := "null"
		if repo := repositoryOf(req.URL.Path); repo != "" {
			action := "pull"
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				action = "push,pull"
			}
			challenge += fmt.Sprintf(`,scope="repository:%s:%s"`, repo, action)
			detail = fmt.Sprintf(`[{"Type":"repository","Class":"","Name":%q,"Action":"pull"}]`, repo)
		}
		if known {
			challenge += `,error="insufficient_scope"`
		}
		w.Header().Set("Www-Authenticate", challenge)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":%s}]}`+"\n", detail)
	})
}

// repositoryOf is the repository of a /v2/<repo>/{manifests,blobs,tags}/…
// path, or "" for /v2/ itself.
func repositoryOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	for _, sep := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(rest, sep); i > 0 {
			return rest[:i]
		}
	}
	return ""
}

// copyFrom copies the image index at src (a plain-http loopback registry)
// into repo:tag, as its owner pushes it, and returns the reference pods name.
func (r *privateRegistry) copyFrom(t *testing.T, src, repo, tag string) string {
	t.Helper()
	from, err := name.ParseReference(src, name.Insecure)
	if err != nil {
		t.Fatalf("parse %s: %v", src, err)
	}
	idx, err := remote.Index(from, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("read %s: %v", src, err)
	}
	to, err := name.ParseReference(strings.TrimPrefix(r.URL, "http://")+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(to, idx, remote.WithContext(t.Context()), remote.WithAuth(&authn.Basic{Username: r.User, Password: r.Password})); err != nil {
		t.Fatalf("push %s into the private registry: %v", src, err)
	}
	return r.Host + "/" + repo + ":" + tag
}

// Without credentials, the registry answers as Docker Hub does for a
// private repository; with them, it serves the image.
func TestPrivateRegistryWantsCredentials(t *testing.T) {
	r := startPrivateRegistry(t, "hub.private.test")
	// An index of one random image is enough to see the auth decide.
	dst, err := name.ParseReference(strings.TrimPrefix(r.URL, "http://")+"/team/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Get(dst, remote.WithContext(t.Context())); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Fatalf("an anonymous GET: %v; want UNAUTHORIZED", err)
	}
	if r.AnonymousTokens.Load() == 0 {
		t.Error("the anonymous pull got no anonymous token first, as Docker Hub gives one")
	}
	if _, err := remote.Get(dst, remote.WithContext(t.Context()), remote.WithAuth(&authn.Basic{Username: r.User, Password: "wrong"})); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a GET with a wrong password: %v; want 401", err)
	}
	_, err = remote.Get(dst, remote.WithContext(t.Context()), remote.WithAuth(&authn.Basic{Username: r.User, Password: r.Password}))
	if err == nil || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
		t.Fatalf("a GET with the password of an image never pushed: %v; want past auth to NAME_UNKNOWN", err)
	}
	if r.UserTokens.Load() == 0 {
		t.Error("the authenticated GET got no user token")
	}
}

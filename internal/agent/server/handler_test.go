package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

var fixedNow = time.Unix(1_760_000_000, 0)

type env struct {
	cluster *fakeCluster
	tokens  *fakeTokens
	handler http.Handler
}

var appPod = PodRef{Namespace: "default", Name: "app"}

func newEnv(t testing.TB, mod func(*Options)) *env {
	t.Helper()
	e := &env{cluster: newFakeCluster(), tokens: &fakeTokens{now: func() time.Time { return fixedNow }}}
	o := Options{Tokens: e.tokens, Pods: e.cluster, Identities: e.cluster,
		Now: func() time.Time { return fixedNow }, Logger: discardLogger(), NewPodGrace: time.Minute}
	if mod != nil {
		mod(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	return e
}

func (e *env) do(method, target, remote string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote + ":40000"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

var md = map[string]string{"Metadata": "true"}

const tokenURL = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"

func TestTokenSuccessBodyIsByteCompatibleWithIMDS(t *testing.T) {
	e := newEnv(t, nil)
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	w := e.do("GET", "/METADATA"+strings.TrimPrefix(tokenURL, "/metadata"), "10.0.0.5", md)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := `{"access_token":"` + fakeJWT(clientA) + `","client_id":"` + clientA +
		`","expires_in":"3600","expires_on":"1760003600","ext_expires_in":"3600","not_before":"1760000000","resource":"https://vault.azure.net","token_type":"Bearer"}`
	if got := w.Body.String(); got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
}

func TestRefusals(t *testing.T) {
	young := Caller{Pod: PodRef{Namespace: "default", Name: "young"}, Created: fixedNow.Add(-5 * time.Second)}
	cases := map[string]struct {
		target     string
		remote     string
		hdr        map[string]string
		wantStatus int
		wantBody   string // exact body when set
		wantIn     string // substring of the body otherwise
		retryAfter bool
	}{
		"a token request without the Metadata header gets the exact IMDS body": {
			target: tokenURL, remote: "10.0.0.5", wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Required metadata header not specified"}`},
		"the Metadata header is checked before the caller is known": {
			target: "/metadata/identity/oauth2/token", remote: "192.0.2.1", wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Required metadata header not specified"}`},
		"a token request without resource is refused": {
			target: "/metadata/identity/oauth2/token?api-version=2018-02-01", remote: "10.0.0.5", hdr: md, wantStatus: 400, wantIn: "audience"},
		"an unknown caller gets 503 with Retry-After and no token": {
			target: tokenURL, remote: "192.0.2.1", hdr: md, wantStatus: 503, wantIn: "192.0.2.1", retryAfter: true},
		"a hostNetwork caller is refused with an explanation": {
			target: tokenURL, remote: "10.0.0.9", hdr: md, wantStatus: 403, wantIn: "host network"},
		"a client ID of another identity gets the IMDS not-found shape": {
			target: tokenURL + "&client_id=" + clientB, remote: "10.0.0.5", hdr: md, wantStatus: 400, wantIn: `{"error":"invalid_request","error_description":"Identity not found: `},
		"a young pod without assignments is told to retry": {
			target: tokenURL, remote: "10.0.0.7", hdr: md, wantStatus: 503, retryAfter: true, wantIn: "retry shortly"},
		"the IMDSv2 platform metadata probe gets 404": {
			target: "/metadata/identity/getplatformmetadata?cred-api-version=2.0", remote: "10.0.0.5", wantStatus: 404},
		"the IMDSv2 credential path gets 404": {
			target: "/metadata/identity/issuecredential", remote: "10.0.0.5", hdr: md, wantStatus: 404},
		"instance metadata is blocked by default": {
			target: "/metadata/instance?api-version=2021-02-01", remote: "10.0.0.5", hdr: md, wantStatus: 403, wantIn: "blocked"},
		"a malformed token path is refused, not forwarded": {
			target: "/metadata/identity/oauth2/tokenx", remote: "10.0.0.5", hdr: md, wantStatus: 400, wantIn: "Invalid request"},
		"other paths are blocked by default": {
			target: "/something", remote: "10.0.0.5", hdr: md, wantStatus: 403},
		"/host/token refuses callers that are not on loopback": {
			target: "/host/token?resource=r", remote: "10.0.0.5", hdr: map[string]string{"podns": "default", "podname": "app"}, wantStatus: 403},
		"/host/token refuses a pod whose address is a loopback address": {
			target: "/host/token?resource=r", remote: "127.64.0.1", hdr: map[string]string{"podns": "default", "podname": "app"}, wantStatus: 403,
			wantBody: `{"error":"access_denied","error_description":"/host/token is served to host components only, and 127.64.0.1 is the address of pod default/loopback"}`},
		"/host/token requires the pod headers": {
			target: "/host/token?resource=r", remote: "127.0.0.1", wantStatus: 400, wantIn: "podns"},
		"/host/token for a pod not on this node gets 404": {
			target: "/host/token?resource=r", remote: "127.0.0.1", hdr: map[string]string{"podns": "x", "podname": "y"}, wantStatus: 404},
	}
	e := newEnv(t, func(o *Options) { o.HostCallers = allowAllHostCallers })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	e.cluster.addPod("10.0.0.9", Caller{Pod: PodRef{Namespace: "kube-system", Name: "hostnet"}, HostNetwork: true})
	e.cluster.addPod("10.0.0.7", young)
	e.cluster.addPod("127.64.0.1", Caller{Pod: PodRef{Namespace: "default", Name: "loopback"}})
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := e.do("GET", tc.target, tc.remote, tc.hdr)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Fatalf("body %s, want %s", w.Body, tc.wantBody)
			}
			if !strings.Contains(w.Body.String(), tc.wantIn) {
				t.Fatalf("body %s does not contain %s", w.Body, tc.wantIn)
			}
			if got := w.Header().Get("Retry-After") != ""; got != tc.retryAfter {
				t.Fatalf("Retry-After %q, want present %v", w.Header().Get("Retry-After"), tc.retryAfter)
			}
			var eb errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error == "" {
				t.Fatalf("body %s is not an IMDS error body: %v", w.Body, err)
			}
		})
	}
	if n := e.tokens.calls.Load(); n != 0 {
		t.Fatalf("refused requests made %d token calls", n)
	}
}

func TestTokenSourceErrors(t *testing.T) {
	cases := map[string]struct {
		err  error
		want int
	}{
		"an AAD refusal is passed on as 400, which clients do not retry": {err: &tokens.Error{Status: 401, Code: "invalid_client", Description: "AADSTS7000215"}, want: 400},
		"an AAD outage is answered with 503, which clients retry":        {err: &tokens.Error{Status: 500}, want: 503},
		"a transport error is answered with 503":                         {err: errors.New("dial tcp: refused"), want: 503},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.tokens.err = tc.err
			e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
			if w := e.do("GET", tokenURL, "10.0.0.5", md); w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
}

func TestWaitForAssignmentWakesOnChange(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AssignmentWait = time.Hour })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDCreated))
	e.cluster.waited = make(chan struct{}, 1)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- e.do("GET", tokenURL, "10.0.0.5", md) }()
	<-e.cluster.waited // resolve
	<-e.cluster.waited // first identity look-up, then it waits
	e.cluster.setAssigned(appPod, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	w := <-done
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

func TestWaitIsBoundedByTheRequestContext(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AssignmentWait = time.Hour })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDCreated))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", tokenURL, nil).WithContext(ctx)
	r.RemoteAddr = "10.0.0.5:1"
	r.Header.Set("Metadata", "true")
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Fatalf("status %d retry-after %q: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
}

// hostCallersFunc adapts a function to HostCallers.
type hostCallersFunc func(r *http.Request) (string, error)

func (f hostCallersFunc) Allow(r *http.Request) (string, error) { return f(r) }

var allowAllHostCallers = hostCallersFunc(func(*http.Request) (string, error) { return "test", nil })

func TestHostTokenReturnsTheOldShape(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.HostCallers = allowAllHostCallers })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	w := e.do("GET", "/host/token?resource=https%3A%2F%2Fvault.azure.net", "127.0.0.1", map[string]string{"podns": "default", "podname": "app"})
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if !strings.HasPrefix(w.Body.String(), `{"token":{"access_token":"`) || !strings.HasSuffix(w.Body.String(), `"token_type":"Bearer"},"clientid":"`+clientA+`"}`) {
		t.Fatalf("body %s", w.Body)
	}
}

func TestPassThroughToNodeIMDS(t *testing.T) {
	var seen []string
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.RequestURI())
		_, _ = w.Write([]byte(`{"from":"node"}`))
	}))
	defer imds.Close()
	u, _ := url.Parse(imds.URL)
	e := newEnv(t, func(o *Options) { o.NodeIMDS = u; o.InstanceMetadata = Proxy })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	e.cluster.addPod("10.0.0.6", Caller{Pod: PodRef{Namespace: "default", Name: "exempt"}, Exempt: true})
	e.cluster.addPod("10.0.0.9", Caller{Pod: PodRef{Namespace: "default", Name: "hostnet-exempt"}, HostNetwork: true, Exempt: true})

	for name, tc := range map[string]struct {
		target, remote string
		want           int
	}{
		"an exempt pod's token request goes to the node":           {target: tokenURL, remote: "10.0.0.6", want: 200},
		"an exempt hostNetwork pod's token request goes too":       {target: tokenURL, remote: "10.0.0.9", want: 200},
		"instance metadata is proxied for a known pod":             {target: "/metadata/instance?api-version=2021-02-01", remote: "10.0.0.5", want: 200},
		"instance metadata is never proxied for an unknown caller": {target: "/metadata/instance?api-version=2021-02-01", remote: "192.0.2.1", want: 503},
	} {
		t.Run(name, func(t *testing.T) {
			n := len(seen)
			w := e.do("GET", tc.target, tc.remote, md)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if proxied := len(seen) > n; proxied != (tc.want == 200) {
				t.Fatalf("proxied %v for status %d", proxied, w.Code)
			}
		})
	}
	if e.tokens.calls.Load() != 0 {
		t.Fatal("pass-through used the token source")
	}
}

func TestHostTokenServesOnlyAdmittedCallers(t *testing.T) {
	refuse := hostCallersFunc(func(*http.Request) (string, error) {
		return "pod x", errors.New("/host/token refused to pod x: add ns/sa to --host-token-allow")
	})
	for name, tc := range map[string]struct {
		callers HostCallers
		want    int
		body    string
	}{
		"no allow list: the endpoint is off": {nil, 403, "not enabled on this agent"},
		"a caller the list does not admit":   {refuse, 403, "add ns/sa to --host-token-allow"},
		"an admitted caller":                 {allowAllHostCallers, 200, "access_token"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.HostCallers = tc.callers })
			e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
			w := e.do("GET", "/host/token/?resource=https%3A%2F%2Fvault.azure.net", "127.0.0.1", map[string]string{"podns": "default", "podname": "app"})
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.body) {
				t.Fatalf("status %d %s; want %d with %q", w.Code, w.Body, tc.want, tc.body)
			}
		})
	}
}

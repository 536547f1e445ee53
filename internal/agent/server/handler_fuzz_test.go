package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	v1 "github.com/podid/podid/api/v1"
)

// FuzzHandler sends the agent's handler any request target and Metadata
// header from a known pod, with every pass-through enabled: no input may
// panic (the recovery middleware would answer 500), and no token request
// spelling may reach the node's IMDS.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{
		"/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net",
		"/metadata/identity/oauth2/token?resource=r&client_id=a&object_id=b",
		"/metadata/identity/oauth2/token?resource=r&msi_res_id=%2Fsubscriptions%2Fx",
		"/metadata/instance/compute?api-version=2021-02-01",
		"/host/token/?resource=r",
		"/metadata//identity/oauth2/token?resource=r",
		"/metadata/identity/oauth2/token?resource=%zz",
	} {
		f.Add(s, "true")
	}
	var proxied []string
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied = append(proxied, r.URL.EscapedPath())
	}))
	f.Cleanup(imds.Close)
	u, _ := url.Parse(imds.URL)
	e := newEnv(f, func(o *Options) {
		o.NodeIMDS, o.InstanceMetadata, o.OtherPaths, o.HostCallers = u, Proxy, Proxy, allowAllHostCallers
	})
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	f.Fuzz(func(t *testing.T, target, metadata string) {
		ref, err := url.ParseRequestURI(target)
		if err != nil {
			t.Skip()
		}
		r := &http.Request{Method: http.MethodGet, URL: ref, RequestURI: target, Header: http.Header{}, Host: "169.254.169.254", RemoteAddr: "10.0.0.5:40000"}
		r.Header.Set("Metadata", metadata)
		r.Header.Set("podns", "default")
		r.Header.Set("podname", "app")
		w := httptest.NewRecorder()
		before := len(proxied)
		e.handler.ServeHTTP(w, r.WithContext(t.Context()))
		if w.Code == http.StatusInternalServerError {
			t.Fatalf("%q: 500 %s", target, w.Body)
		}
		if len(proxied) > before {
			if k := classifyPath(ref.EscapedPath()); k != pathInstance && k != pathOther {
				t.Fatalf("%q (%v) reached the node's IMDS", target, k)
			}
		}
	})
}

package cloud_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

// az CLI's one request to login.microsoftonline.com, through the proxy
// podid up gives it, reaches the cloud; nothing else is tunneled.
func TestDiscoveryProxy(t *testing.T) {
	env := cloudtest.Start(t, nil)
	p, err := env.Cloud.StartDiscoveryProxy("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close proxy: %v", err)
		}
	})
	proxyURL, err := url.Parse(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: env.CertPool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	viaProxy := &http.Client{Transport: tr}
	discovery := "/common/discovery/instance?api-version=1.0&authorization_endpoint=" +
		url.QueryEscape("https://127.0.0.1/"+env.TenantID+"/oauth2/v2.0/authorize")

	cases := map[string]struct {
		client    *http.Client
		url       string
		wantErr   string // a part of the client's error; "" means an answer
		wantDoc   string // a part of tenant_discovery_endpoint
		wantProxy int    // status of a request to the proxy itself
	}{
		"instance discovery at login.microsoftonline.com is answered by the cloud": {
			client: viaProxy, url: "https://login.microsoftonline.com" + discovery,
			wantDoc: "/" + env.TenantID + "/v2.0/.well-known/openid-configuration",
		},
		"a tunnel to another host is refused": {
			client: viaProxy, url: "https://management.azure.com/subscriptions?api-version=2022-12-01", wantErr: "Forbidden",
		},
		"a tunnel to another port of the same host is refused": {
			client: viaProxy, url: "https://login.microsoftonline.com:8443" + discovery, wantErr: "Forbidden",
		},
		"plain HTTP to the proxy is not proxied": {
			client: http.DefaultClient, url: p.URL() + "/", wantProxy: http.StatusMethodNotAllowed,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tc.client.Do(req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("GET %s: %v, want an error with %q", tc.url, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if tc.wantProxy != 0 {
				if resp.StatusCode != tc.wantProxy {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantProxy)
				}
				return
			}
			var out struct {
				TenantDiscovery string `json:"tenant_discovery_endpoint"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(out.TenantDiscovery, tc.wantDoc) {
				t.Fatalf("got %d %+v, want tenant document %q", resp.StatusCode, out, tc.wantDoc)
			}
		})
	}
}

package cloud_test

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

// MSAL for Python (az CLI) validates an authority it does not know by
// asking login.microsoftonline.com's instance discovery, with the port of
// the authority dropped; the cloud answers for the hosts it serves.
func TestInstanceDiscovery(t *testing.T) {
	env := cloudtest.Start(t, nil)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(env.URL, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	tenant := env.TenantID
	cases := map[string]struct {
		method, endpoint string
		wantStatus       int
		wantTenantDoc    string // tenant_discovery_endpoint
		wantError        string // error, then AADSTS code in error_description
		wantAADSTS       string
	}{
		"the cloud's loopback address, port dropped as MSAL drops it, gets the v2 document with the port back": {
			endpoint: "https://127.0.0.1/" + tenant + "/oauth2/v2.0/authorize", wantStatus: http.StatusOK,
			wantTenantDoc: "https://127.0.0.1:" + port + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		},
		"localhost, the other name on the cloud's certificate, is the cloud too": {
			endpoint: "https://localhost/" + tenant + "/oauth2/v2.0/authorize", wantStatus: http.StatusOK,
			wantTenantDoc: "https://localhost:" + port + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		},
		"a v1 authorize endpoint gets the v1 document": {
			endpoint: "https://127.0.0.1/common/oauth2/authorize", wantStatus: http.StatusOK,
			wantTenantDoc: "https://127.0.0.1:" + port + "/common/.well-known/openid-configuration",
		},
		"login.microsoftonline.com, which MSAL asks about for its alias table, is served by the front door on 443": {
			endpoint: "https://login.microsoftonline.com/common/oauth2/authorize", wantStatus: http.StatusOK,
			wantTenantDoc: "https://login.microsoftonline.com/common/.well-known/openid-configuration",
		},
		"any other host is an invalid instance": {
			endpoint: "https://login.example.com/" + tenant + "/oauth2/v2.0/authorize", wantStatus: http.StatusBadRequest,
			wantError: "invalid_instance", wantAADSTS: "AADSTS50049: Unknown or invalid instance.",
		},
		"plain http is an invalid instance": {
			endpoint: "http://127.0.0.1/" + tenant + "/oauth2/v2.0/authorize", wantStatus: http.StatusBadRequest,
			wantError: "invalid_instance", wantAADSTS: "AADSTS50049",
		},
		"the authorization endpoint is required": {
			wantStatus: http.StatusBadRequest, wantError: "invalid_request", wantAADSTS: "AADSTS900144",
		},
		"POST is refused": {
			method: http.MethodPost, endpoint: "https://127.0.0.1/" + tenant + "/oauth2/v2.0/authorize", wantStatus: http.StatusBadRequest,
			wantError: "invalid_request", wantAADSTS: "AADSTS900561",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			q := url.Values{"api-version": {"1.0"}}
			if tc.endpoint != "" {
				q.Set("authorization_endpoint", tc.endpoint)
			}
			req, err := http.NewRequestWithContext(t.Context(), method, env.URL+"/common/discovery/instance?"+q.Encode(), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := env.HTTPClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				TenantDiscovery string `json:"tenant_discovery_endpoint"`
				Metadata        []struct {
					Aliases []string `json:"aliases"`
				} `json:"metadata"`
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || out.TenantDiscovery != tc.wantTenantDoc || out.Error != tc.wantError || !strings.HasPrefix(out.Description, tc.wantAADSTS) {
				t.Fatalf("got %d %+v, want %d tenant doc %q error %q %q", resp.StatusCode, out, tc.wantStatus, tc.wantTenantDoc, tc.wantError, tc.wantAADSTS)
			}
			if resp.StatusCode == http.StatusOK && (len(out.Metadata) == 0 || out.Metadata[0].Aliases[0] != "login.microsoftonline.com") {
				t.Fatalf("metadata %+v lacks the alias groups MSAL reads", out.Metadata)
			}
		})
	}
}

// A proxy that tunnels login.microsoftonline.com to the cloud's own
// listener reaches a certificate naming that host; other names get the
// listener's loopback certificate.
func TestMainListenerCertificateByServerName(t *testing.T) {
	env := cloudtest.Start(t, nil)
	addr := strings.TrimPrefix(env.URL, "https://")
	cases := map[string]struct {
		serverName string
		wantOK     bool
	}{
		"login.microsoftonline.com verifies":            {"login.microsoftonline.com", true},
		"localhost verifies":                            {"localhost", true},
		"a name the cloud does not serve does not":      {"login.example.com", false},
		"management.azure.com, an Azure name, verifies": {"management.azure.com", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: tc.serverName, RootCAs: env.CertPool, MinVersion: tls.VersionTLS12})
			if conn != nil {
				_ = conn.Close()
			}
			if (err == nil) != tc.wantOK {
				t.Fatalf("handshake for %s: %v, want ok=%v", tc.serverName, err, tc.wantOK)
			}
		})
	}
}

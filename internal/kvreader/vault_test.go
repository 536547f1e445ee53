package kvreader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// testVault is the vault's URL in these tests. It is under
// vault.azure.net so that the SDK's check of the challenge's resource
// passes unchanged; the transport dials the fake vault instead.
const testVault = "https://kv-westus2-aks.vault.azure.net"

const fakeToken = "fake-token"

// fakeCredential hands out fakeToken, or err.
type fakeCredential struct {
	err    error
	scopes []string
}

func (c *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.scopes = o.Scopes
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: fakeToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// startFakeVault serves Key Vault's GET /secrets/{name}: first the 401
// challenge Key Vault sends to a request without a token, then the
// secrets, a 404 SecretNotFound, or 403 Forbidden for "forbidden".
func startFakeVault(t *testing.T, secrets map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /secrets/{name}/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			t.Errorf("authorization %q, want the fake token", r.Header.Get("Authorization"))
		}
		if r.URL.Query().Get("api-version") == "" {
			t.Errorf("request %s has no api-version", r.URL)
		}
		name := r.PathValue("name")
		w.Header().Set("Content-Type", "application/json")
		if name == "forbidden" {
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"code":    "Forbidden",
				"message": "The user, group or application 'appid=x' does not have secrets get permission on key vault 'kv-westus2-aks'.",
			}})
			return
		}
		v, ok := secrets[name]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"code": "SecretNotFound", "message": "A secret with (name/id) " + name + " was not found in this key vault.",
			}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"value": v,
			"id":    testVault + "/secrets/" + name + "/0123456789abcdef0123456789abcdef",
		})
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// clientOptions send every request to srv, trusting its certificate,
// which is issued to example.com.
func clientOptions(srv *httptest.Server) *azsecrets.ClientOptions {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	tr.TLSClientConfig.ServerName = "example.com"
	return &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: &http.Client{Transport: tr},
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
}

func TestReadThroughKeyVault(t *testing.T) {
	srv := startFakeVault(t, map[string]string{"grafana-admin-username-poc": "admin-poc"})
	cases := map[string]struct {
		path       string
		kind       string
		credErr    error
		wantStatus int
		wantBody   string
	}{
		"a secret is read after the challenge": {
			path: "/secrets/grafana-admin-username-poc/", wantStatus: http.StatusOK, wantBody: "admin-poc",
		},
		"a missing secret answers 404 with Key Vault's code": {
			path: "/secrets/nope/", wantStatus: http.StatusNotFound, wantBody: `Key Vault has no secret "nope" (SecretNotFound).` + "\n",
		},
		"a refused read answers 502 with Key Vault's code and message": {
			path: "/secrets/forbidden/", wantStatus: http.StatusBadGateway,
			wantBody: `Key Vault refused to read secret "forbidden": Forbidden (HTTP 403): The user, group or application 'appid=x' does not have secrets get permission on key vault 'kv-westus2-aks' Grant the pod's identity get permission on the vault's secrets.` + "\n",
		},
		"no token answers 502 naming IMDS and the binding label": {
			path: "/secrets/grafana-admin-username-poc/", kind: CredManagedIdentity, credErr: errors.New("ManagedIdentityCredential: IMDS answered 404"),
			wantStatus: http.StatusBadGateway,
			wantBody: "No token for Key Vault could be obtained from IMDS (169.254.169.254): ManagedIdentityCredential: IMDS answered 404. " +
				"Check that the pod carries the aadpodidbinding label of an AzureIdentityBinding and that its AzureAssignedIdentity is Assigned.\n",
		},
		"Azure AD's refusal of a workload identity comes first, with the federated credential to check": {
			path: "/secrets/grafana-admin-username-poc/", kind: CredWorkloadIdentity,
			credErr:    errors.New("WorkloadIdentityCredential authentication failed. POST https://login.microsoftonline.com/t/oauth2/v2.0/token\n" + strings.Repeat("-", 80) + "\nRESPONSE 400: 400 Bad Request\n{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion subject 'system:serviceaccount:wi-demo:not-federated'.\",\n  \"error_codes\": [70021]\n}"),
			wantStatus: http.StatusBadGateway,
			wantBody: "No token for Key Vault could be obtained from Azure AD with the pod's projected service-account token (AZURE_FEDERATED_TOKEN_FILE): " +
				"AADSTS70021: No matching federated identity record found for presented assertion subject 'system:serviceaccount:wi-demo:not-federated'. " +
				"Check that the identity AZURE_CLIENT_ID names has a federated credential with the cluster's issuer, the subject system:serviceaccount:<namespace>:<service account> and the audience api://AzureADTokenExchange (podid doctor --pod NAMESPACE/POD compares them).\n",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cred := &fakeCredential{err: c.credErr}
			reader, err := NewVaultReader(testVault, c.kind, cred, clientOptions(srv))
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			h := NewHandler(reader, slog.New(slog.NewTextHandler(&logs, nil)), 10*time.Second)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
			if rec.Code != c.wantStatus || rec.Body.String() != c.wantBody {
				t.Fatalf("got %d %q\nwant %d %q", rec.Code, rec.Body, c.wantStatus, c.wantBody)
			}
			if got := strings.Join(cred.scopes, " "); got != "https://vault.azure.net/.default" {
				t.Fatalf("token scopes %q, want Key Vault's", got)
			}
			if strings.Contains(logs.String(), fakeToken) || strings.Contains(logs.String(), "admin-poc") {
				t.Fatalf("log holds a token or value: %s", logs.String())
			}
		})
	}
}

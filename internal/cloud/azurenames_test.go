package cloud_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

// frontDoor serves Azure's names on a loopback port and returns a client that
// sends every connection there, as the cluster DNS does for a pod, and trusts
// only the cloud's CA.
func frontDoor(t *testing.T, env *cloudtest.Env) *http.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Cloud.ServeAzureNames(ln); err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	tr := &http.Transport{
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: env.CertPool, MinVersion: tls.VersionTLS12},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// publicOptions are azcore options as an unmodified application has them:
// Azure's public cloud, with only the transport pointed at the front door.
func publicOptions(fd *http.Client) policy.ClientOptions {
	return policy.ClientOptions{Transport: fd, Retry: policy.RetryOptions{MaxRetries: -1}}
}

func TestAzureNamesKeyVaultWithManagedIdentity(t *testing.T) {
	env := startWorld(t)
	fd := frontDoor(t, env)
	cred, _ := identityCred(t, env, "app-identity")
	// No DisableChallengeResourceVerification: the challenge's resource
	// (vault.azure.net) must match the vault's real host name.
	kv, err := azsecrets.NewClient("https://kv-policy.vault.azure.net", cred, &azsecrets.ClientOptions{ClientOptions: publicOptions(fd)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := kv.GetSecret(context.Background(), "grafana-admin", "", nil)
	if err != nil {
		t.Fatalf("get secret through kv-policy.vault.azure.net: %v", err)
	}
	if *got.Value != "admin" || !strings.HasPrefix(string(*got.ID), "https://kv-policy.vault.azure.net/secrets/grafana-admin/") {
		t.Fatalf("secret = %q with ID %q; want admin under the vault's own host", *got.Value, *got.ID)
	}
}

func TestAzureNamesSignInAtLoginMicrosoftOnline(t *testing.T) {
	env := startWorld(t)
	fd := frontDoor(t, env)
	ctx := context.Background()
	app, _ := env.Cloud.Application("deployer")
	// Instance discovery stays on: MSAL skips it for Azure's own hosts, and
	// it checks that the OIDC issuer names login.microsoftonline.com.
	cred, err := azidentity.NewClientSecretCredential(tenantID, app.AppID, "good-secret",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: publicOptions(fd)})
	if err != nil {
		t.Fatal(err)
	}

	vaultID := "/subscriptions/" + nodeSub + "/resourceGroups/" + sharedRG + "/providers/Microsoft.KeyVault/vaults/kv-rbac"
	if _, err := env.Cloud.GrantRole(app.ObjectID, "Key Vault Secrets User", vaultID); err != nil {
		t.Fatal(err)
	}
	kv, err := azsecrets.NewClient("https://kv-rbac.vault.azure.net/", cred, &azsecrets.ClientOptions{ClientOptions: publicOptions(fd)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := kv.GetSecret(ctx, "db-password", "", nil)
	if err != nil || *got.Value != "s3cr3t" {
		t.Fatalf("get secret signed in at %s: %v", "login.microsoftonline.com", err)
	}

	groups, err := armresources.NewResourceGroupsClient(nodeSub, cred, &arm.ClientOptions{ClientOptions: publicOptions(fd)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for pager := groups.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list resource groups through management.azure.com: %v", err)
		}
		for _, g := range page.Value {
			names = append(names, *g.Name)
		}
	}
	if len(names) != 2 {
		t.Fatalf("resource groups = %v; want %s and %s", names, nodeRG, sharedRG)
	}
}

func TestAzureNamesURLsStayOnAzureHosts(t *testing.T) {
	env := startWorld(t)
	fd := frontDoor(t, env)
	cases := map[string]struct {
		url        string
		wantStatus int
		wantHeader string // WWW-Authenticate
		wantBody   map[string]string
	}{
		"Key Vault's challenge sends the client to login.microsoftonline.com": {
			url:        "https://kv-rbac.vault.azure.net/secrets/db-password?api-version=7.4",
			wantStatus: http.StatusUnauthorized,
			wantHeader: `Bearer authorization="https://login.microsoftonline.com/` + tenantID + `", resource="https://vault.azure.net"`,
		},
		"OIDC metadata names login.microsoftonline.com as issuer and token endpoint": {
			url:        "https://login.microsoftonline.com/" + tenantID + "/v2.0/.well-known/openid-configuration",
			wantStatus: http.StatusOK,
			wantBody: map[string]string{
				"issuer":         "https://login.microsoftonline.com/" + tenantID + "/v2.0",
				"token_endpoint": "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token",
			},
		},
		"ARM's challenge sends the client to login.microsoftonline.com": {
			url:        "https://management.azure.com/subscriptions/" + nodeSub + "?api-version=2022-12-01",
			wantStatus: http.StatusUnauthorized,
			wantHeader: `Bearer authorization_uri="https://login.microsoftonline.com/", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp, err := fd.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d; want %d", resp.StatusCode, tc.wantStatus)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.wantHeader {
				t.Fatalf("WWW-Authenticate = %q; want %q", got, tc.wantHeader)
			}
			if tc.wantBody == nil {
				return
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.wantBody {
				if body[k] != want {
					t.Errorf("%s = %v; want %s", k, body[k], want)
				}
			}
		})
	}
}

func TestAzureNamesUnknownHosts(t *testing.T) {
	env := startWorld(t)
	fd := frontDoor(t, env)
	cases := map[string]struct {
		url      string
		host     string // Host header; empty keeps the URL's
		wantCode string
		wantText string
	}{
		"a vault that does not exist is VaultNotFound naming it": {
			url: "https://no-such-vault.vault.azure.net/secrets/x?api-version=7.4", wantCode: "VaultNotFound", wantText: "no-such-vault.vault.azure.net",
		},
		"a registry that does not exist is HostNotFound naming its host": {
			url: "https://myregistry.azurecr.io/v2/", wantCode: "HostNotFound", wantText: "myregistry.azurecr.io",
		},
		"a Host outside Azure's names is HostNotFound naming it": {
			url: "https://kv-rbac.vault.azure.net/secrets/db-password?api-version=7.4", host: "example.com", wantCode: "HostNotFound", wantText: "example.com",
		},
		"a name two labels under the vault zone is no vault": {
			url: "https://kv-rbac.vault.azure.net/", host: "a.kv-rbac.vault.azure.net", wantCode: "HostNotFound", wantText: "a.kv-rbac.vault.azure.net",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := fd.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decode 404 body: %v", err)
			}
			if resp.StatusCode != http.StatusNotFound || body.Error.Code != tc.wantCode || !strings.Contains(body.Error.Message, tc.wantText) {
				t.Fatalf("got %d %+v; want 404 %s naming %s", resp.StatusCode, body.Error, tc.wantCode, tc.wantText)
			}
		})
	}
}

func TestAzureNamesRefusesOtherServerNames(t *testing.T) {
	env := startWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Cloud.ServeAzureNames(ln); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		serverName string
		wantOK     bool
	}{
		"a vault's name is served":                    {"kv-rbac.vault.azure.net", true},
		"Azure AD's name in capitals is served":       {"LOGIN.MICROSOFTONLINE.COM", true},
		"a name outside Azure's is refused":           {"example.com", false},
		"a look-alike of the vault zone is refused":   {"kv-rbac.vault.azure.net.evil.example", false},
		"the bare vault zone is refused":              {"vault.azure.net", false},
		"a registry's name is covered for what comes": {"myregistry.azurecr.io", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := tls.Dialer{Config: &tls.Config{ServerName: tc.serverName, RootCAs: env.CertPool, MinVersion: tls.VersionTLS12}}
			conn, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
			if err == nil {
				_ = conn.Close()
			}
			if (err == nil) != tc.wantOK {
				t.Fatalf("handshake for %q: err = %v; want success %v", tc.serverName, err, tc.wantOK)
			}
		})
	}
}

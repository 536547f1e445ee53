package signin_test

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/signin"
)

const (
	tenant   = "2e319086-9a26-46a3-865f-615bed576786"
	aliceOID = "5a1ce7a2-3c59-4f0e-9d4b-1f7e2a6c8b01"
	adminsID = "ad1a5e0c-2f4b-4d6a-8e1c-9b7f3a5d0c03"
	ciAppID  = "c1c1c1c1-0000-4000-8000-00000000c1c1"
	ciSecret = "ci-local-secret"
)

const world = `
tenants:
  - id: ` + tenant + `
    subscriptions:
      - id: 7e242177-ef0b-431f-8c76-e40907843aa7
    users:
      - {userPrincipalName: alice@contoso.com, password: pw, objectId: ` + aliceOID + `}
    groups:
      - {name: aks-admins, objectId: ` + adminsID + `, members: [alice@contoso.com]}
    applications:
      - {name: ci, appId: ` + ciAppID + `, secrets: [{value: ` + ciSecret + `}]}
`

var codeRE = regexp.MustCompile(`enter the code ([A-Z0-9]+) to authenticate`)

// approver is the prompt Get prints the device code message to: it
// approves the code as user at once, as the person would on the sign-in
// page, and remembers that it was asked.
type approver struct {
	t        *testing.T
	env      *cloudtest.Env
	user     string
	prompted bool
}

func (a *approver) Write(p []byte) (int, error) {
	m := codeRE.FindSubmatch(p)
	if m == nil {
		a.t.Errorf("the prompt %q holds no code", p)
		return len(p), nil
	}
	a.prompted = true
	if _, err := a.env.Cloud.ApproveDevice(string(m[1]), a.user, ""); err != nil {
		a.t.Errorf("approve %s: %v", m[1], err)
	}
	return len(p), nil
}

func TestAPersonSignsInOnceThenRenewsSilently(t *testing.T) {
	env := cloudtest.StartYAML(t, world)
	now := time.Now()
	c := &signin.Client{Authority: env.AuthorityHost, TenantID: tenant, HTTP: env.HTTPClient,
		Now:  func() time.Time { return now },
		Wait: func(context.Context, time.Duration) error { time.Sleep(20 * time.Millisecond); return nil }}
	req := signin.Request{Login: signin.LoginDeviceCode, ServerID: cloud.AKSServerAppID, ClientID: cloud.AKSClientAppID, TenantID: tenant, CacheDir: t.TempDir()}

	prompt := &approver{t: t, env: env, user: "alice@contoso.com"}
	first, err := signin.Get(t.Context(), c, req, prompt)
	if err != nil || !prompt.prompted {
		t.Fatalf("sign-in: %v (prompted %v)", err, prompt.prompted)
	}
	claims := env.VerifyToken(t, tenant, first.AccessToken)
	if claims["aud"] != cloud.AKSServerAppID || claims["upn"] != "alice@contoso.com" || claims["iss"] != env.URL+"/"+tenant+"/v2.0" {
		t.Fatalf("aud %v upn %v iss %v; want the AKS server app, alice and the v2 issuer", claims["aud"], claims["upn"], claims["iss"])
	}
	if groups, _ := claims["groups"].([]any); len(groups) != 1 || groups[0] != adminsID {
		t.Fatalf("groups %v, want [%s]", claims["groups"], adminsID)
	}

	files, _ := os.ReadDir(req.CacheDir)
	for _, f := range files {
		if info, _ := f.Info(); info.Mode().Perm() != 0o600 {
			t.Fatalf("cache file %s has mode %v, want 0600", f.Name(), info.Mode().Perm())
		}
	}
	if len(files) != 1 {
		t.Fatalf("%d files in the cache, want 1", len(files))
	}

	var quiet bytes.Buffer
	again, err := signin.Get(t.Context(), c, req, &quiet)
	if err != nil || again.AccessToken != first.AccessToken || quiet.Len() != 0 {
		t.Fatalf("second call: err %v, same token %v, prompt %q; want the cached token and no prompt", err, again.AccessToken == first.AccessToken, quiet.String())
	}

	now = now.Add(2 * time.Hour) // the access token expired; the refresh token has not
	renewed, err := signin.Get(t.Context(), c, req, &quiet)
	if err != nil || renewed.AccessToken == first.AccessToken || quiet.Len() != 0 {
		t.Fatalf("after expiry: err %v, new token %v, prompt %q; want a token renewed without a prompt", err, renewed.AccessToken != first.AccessToken, quiet.String())
	}
	if claims := env.VerifyToken(t, tenant, renewed.AccessToken); claims["upn"] != "alice@contoso.com" {
		t.Fatalf("renewed token is for %v", claims["upn"])
	}
}

func TestAServicePrincipalSignsInWithItsSecretFromTheEnvironment(t *testing.T) {
	env := cloudtest.StartYAML(t, world)
	c := &signin.Client{Authority: env.AuthorityHost, TenantID: tenant, HTTP: env.HTTPClient, Now: time.Now}
	vars := map[string]string{"AAD_LOGIN_METHOD": "spn", "AAD_SERVICE_PRINCIPAL_CLIENT_ID": ciAppID, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": ciSecret}
	req := signin.FromEnv(signin.Request{Login: signin.LoginDeviceCode, ServerID: cloud.AKSServerAppID, ClientID: cloud.AKSClientAppID, TenantID: tenant},
		func(k string) string { return vars[k] })
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	var prompt bytes.Buffer
	tok, err := signin.Get(t.Context(), c, req, &prompt)
	if err != nil {
		t.Fatal(err)
	}
	claims := env.VerifyToken(t, tenant, tok.AccessToken)
	if claims["aud"] != cloud.AKSServerAppID || claims["appid"] != ciAppID || claims["upn"] != nil || prompt.Len() != 0 {
		t.Fatalf("aud %v appid %v upn %v prompt %q; want an app token for the AKS server app without a prompt", claims["aud"], claims["appid"], claims["upn"], prompt.String())
	}

	vars["AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"] = "wrong"
	req = signin.FromEnv(req, func(k string) string { return vars[k] })
	if _, err := signin.Get(t.Context(), c, req, &prompt); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a wrong secret: %v, want Azure AD's invalid_client", err)
	}
}

func TestExecCredentialAnswersInTheVersionKubectlAsks(t *testing.T) {
	tok := signin.Token{AccessToken: "tok", ExpiresOn: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	cases := map[string]struct {
		info, want, wantErr string
	}{
		"no exec info means v1beta1, as kubelogin": {want: `"apiVersion":"client.authentication.k8s.io/v1beta1"`},
		"kubectl asking for v1 gets v1":            {info: `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}`, want: `"apiVersion":"client.authentication.k8s.io/v1"`},
		"an unknown version is refused":            {info: `{"apiVersion":"client.authentication.k8s.io/v2"}`, wantErr: "speaks"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := signin.ExecCredential(tok, tc.info)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), `"expirationTimestamp":"2030-01-02T03:04:05Z","token":"tok"`) {
				t.Fatalf("got %s (%v), want %s and the token", out, err, tc.want)
			}
		})
	}
}

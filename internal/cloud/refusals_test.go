package cloud_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is a SHA-1 thumbprint.
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
)

const (
	foreignTenant = "5b8f3c1e-7d2a-4e6b-9c0f-1a2b3c4d5e6f"
	foreignSub    = "6c9e4d2f-8e3b-4f7c-a01e-2b3c4d5e6f70"
	disabledVer   = "0d15ab1ed0000000000000000000000a"
	wifAudience   = "api://AzureADTokenExchange"
	wifSubject    = "system:serviceaccount:default:workload"
	jwtBearer     = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// refusalWorld is testWorld plus a vault data role for the deployer and a
// second tenant whose application gets tokens for the wrong tenant.
const refusalWorld = testWorld + `      - principal: deployer
        role: Key Vault Secrets User
        scope: vault/kv-rbac
  - id: ` + foreignTenant + `
    name: fabrikam
    subscriptions:
      - id: ` + foreignSub + `
        name: other
    applications:
      - name: foreign
        secrets:
          - value: foreign-secret
            endDate: 2099-01-01T00:00:00Z
`

// loopbackIssuer is an OIDC issuer on 127.0.0.1 whose CA the cloud trusts.
type loopbackIssuer struct {
	url string
	key *rsa.PrivateKey
	kid string
}

func startLoopbackIssuer(t *testing.T, env *cloudtest.Env) *loopbackIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &loopbackIssuer{key: key, kid: "issuer-key-1"}
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("issuer is not on loopback: %s", srv.URL)
	}
	is.url = srv.URL
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.url, "jwks_uri": is.url + "/openid/v1/jwks"})
	})
	mux.HandleFunc("/openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"use": "sig", "kty": "RSA", "kid": is.kid, "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	})
	if err := env.Cloud.AddTrustedCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})); err != nil {
		t.Fatal(err)
	}
	return is
}

func signJWT(t *testing.T, key *rsa.PrivateKey, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func timeClaims(c jwt.MapClaims, nbf, exp time.Time) jwt.MapClaims {
	c["iat"], c["nbf"], c["exp"], c["jti"] = nbf.Unix(), nbf.Unix(), exp.Unix(), rand.Text()
	return c
}

func selfSigned(t *testing.T, name string, notBefore, notAfter time.Time) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

type answer struct {
	status int
	header http.Header
	body   string
}

// TestCloudRefusesWhatAzureRefuses presents each credential or token Azure
// refuses and checks the status and Azure's code in the answer.
func TestCloudRefusesWhatAzureRefuses(t *testing.T) {
	w, err := world.Parse("refusals.yaml", []byte(refusalWorld))
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	// Seed a secret whose only version is disabled, through the state file.
	seeded := false
	for _, v := range st.Vaults {
		if v.Name == "kv-rbac" {
			now := time.Now().UTC()
			v.Secrets["retired"] = []cloud.SecretVersion{{Version: disabledVer, Value: "old", Enabled: false, Created: now, Updated: now}}
			seeded = true
		}
	}
	if !seeded {
		t.Fatal("no kv-rbac vault in the world")
	}
	dir := t.TempDir()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: dir})

	do := func(t *testing.T, req *http.Request) answer {
		t.Helper()
		resp, err := env.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(body)}
	}
	tokenEndpoint := func(tenant string) string { return env.URL + "/" + tenant + "/oauth2/v2.0/token" }
	post := func(tenant string, form url.Values) func(t *testing.T) answer {
		return func(t *testing.T) answer {
			form.Set("grant_type", "client_credentials")
			if form.Get("scope") == "" {
				form.Set("scope", "https://vault.azure.net/.default")
			}
			req, _ := http.NewRequest(http.MethodPost, tokenEndpoint(tenant), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return do(t, req)
		}
	}
	token := func(t *testing.T, tenant, clientID, secret, scope string) string {
		t.Helper()
		a := post(tenant, url.Values{"client_id": {clientID}, "client_secret": {secret}, "scope": {scope}})(t)
		var out struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal([]byte(a.body), &out); err != nil || a.status != 200 || out.AccessToken == "" {
			t.Fatalf("token for %s: %d %s", clientID, a.status, a.body)
		}
		return out.AccessToken
	}
	get := func(u string, bearer func(t *testing.T) string) func(t *testing.T) answer {
		return func(t *testing.T) answer {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("Authorization", "Bearer "+bearer(t))
			return do(t, req)
		}
	}

	deployer, _ := env.Cloud.Application("deployer")
	expiredSP, _ := env.Cloud.Application("expired-sp")
	foreign, _ := env.Cloud.Application("foreign")
	ident, _ := env.Cloud.IdentityByName("app-identity")
	issuer := startLoopbackIssuer(t, env)
	if err := env.Cloud.AddFederatedCredential(ident.ID, cloud.FederatedCredential{Name: "kube", Issuer: issuer.url, Subject: wifSubject, Audiences: []string{wifAudience}}); err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	federated := func(key *rsa.PrivateKey, kid, iss, sub, aud string, nbf, exp time.Time) func(t *testing.T) answer {
		return func(t *testing.T) answer {
			a := signJWT(t, key, map[string]any{"kid": kid}, timeClaims(jwt.MapClaims{"iss": iss, "sub": sub, "aud": []string{aud}}, nbf, exp))
			return post(tenantID, url.Values{"client_id": {ident.ClientID}, "client_assertion_type": {jwtBearer}, "client_assertion": {a}, "scope": {"https://management.azure.com/.default"}})(t)
		}
	}

	// Certificate credentials: one current, one whose end date has passed.
	certApp, err := env.Cloud.CreateApplication(tenantID, "cert-app", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	goodCert, goodKey := selfSigned(t, "cert-app", now.Add(-time.Hour), now.Add(time.Hour))
	if err := env.Cloud.AddAppCertificate(certApp.AppID, goodCert); err != nil {
		t.Fatal(err)
	}
	oldApp, err := env.Cloud.CreateApplication(tenantID, "old-cert-app", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	oldCert, oldKey := selfSigned(t, "old-cert-app", now.Add(-48*time.Hour), now.Add(-time.Hour))
	if err := env.Cloud.AddAppCertificate(oldApp.AppID, oldCert); err != nil {
		t.Fatal(err)
	}
	certAssertion := func(app cloud.Application, cert *x509.Certificate, key *rsa.PrivateKey, sub, aud string) func(t *testing.T) answer {
		return func(t *testing.T) answer {
			sum := sha1.Sum(cert.Raw) //nolint:gosec // x5t
			a := signJWT(t, key, map[string]any{"x5t": base64.RawURLEncoding.EncodeToString(sum[:])},
				timeClaims(jwt.MapClaims{"iss": app.AppID, "sub": sub, "aud": aud}, now.Add(-time.Minute), now.Add(10*time.Minute)))
			return post(tenantID, url.Values{"client_id": {app.AppID}, "client_assertion_type": {jwtBearer}, "client_assertion": {a}})(t)
		}
	}

	vault := env.Cloud.VaultURLs()["kv-rbac"]
	kvChallenge := `Bearer authorization="` + env.URL + `/` + tenantID + `", resource="https://vault.azure.net"`
	armURL := env.URL + "/subscriptions/" + nodeSub + "/resourceGroups/" + nodeRG + "?api-version=2021-04-01"
	deployerFor := func(scope string) func(t *testing.T) string {
		return func(t *testing.T) string { return token(t, tenantID, deployer.AppID, "good-secret", scope) }
	}
	foreignFor := func(scope string) func(t *testing.T) string {
		return func(t *testing.T) string { return token(t, foreignTenant, foreign.AppID, "foreign-secret", scope) }
	}
	const vaultScope, armScope = "https://vault.azure.net/.default", "https://management.azure.com/.default"
	aad := func(code int) []string {
		return []string{fmt.Sprintf("AADSTS%d: ", code), fmt.Sprintf(`"error_codes":[%d]`, code)}
	}

	cases := map[string]struct {
		do        func(t *testing.T) answer
		status    int
		want      []string // substrings of the body
		challenge string   // WWW-Authenticate prefix, when Azure sends one
	}{
		// Controls: the same paths accept what Azure accepts.
		"a current client secret is exchanged":                      {post(tenantID, url.Values{"client_id": {deployer.AppID}, "client_secret": {"good-secret"}}), 200, []string{`"access_token"`}, ""},
		"a well-formed federated assertion is exchanged":            {federated(issuer.key, issuer.kid, issuer.url, wifSubject, wifAudience, now.Add(-time.Minute), now.Add(time.Hour)), 200, []string{`"access_token"`}, ""},
		"an assertion signed by a current certificate is exchanged": {certAssertion(certApp, goodCert, goodKey, certApp.AppID, tokenEndpoint(tenantID)), 200, []string{`"access_token"`}, ""},
		"an enabled secret is served at Key Vault":                  {get(vault+"secrets/db-password?api-version=7.4", deployerFor(vaultScope)), 200, []string{`"value":"s3cr3t"`}, ""},
		"an ARM token of the right tenant reaches ARM":              {get(armURL, deployerFor(armScope)), 200, []string{`"name":"` + nodeRG + `"`}, ""},

		// Azure AD token endpoint.
		"an unknown client is AADSTS700016":         {post(tenantID, url.Values{"client_id": {"99999999-9999-9999-9999-999999999999"}, "client_secret": {"x"}}), 400, aad(700016), ""},
		"a wrong client secret is AADSTS7000215":    {post(tenantID, url.Values{"client_id": {deployer.AppID}, "client_secret": {"bad-secret"}}), 401, aad(7000215), ""},
		"an expired client secret is AADSTS7000222": {post(tenantID, url.Values{"client_id": {expiredSP.AppID}, "client_secret": {"old-secret"}}), 401, aad(7000222), ""},
		"a federated assertion with a forged signature is AADSTS50013": {
			federated(otherKey, issuer.kid, issuer.url, wifSubject, wifAudience, now.Add(-time.Minute), now.Add(time.Hour)), 401,
			append(aad(50013), "Assertion failed signature validation."), ""},
		"a federated assertion with an unknown kid is AADSTS50013": {
			federated(issuer.key, "no-such-kid", issuer.url, wifSubject, wifAudience, now.Add(-time.Minute), now.Add(time.Hour)), 401,
			append(aad(50013), "The key was not found."), ""},
		"a federated assertion for a wrong audience is AADSTS70021": {
			federated(issuer.key, issuer.kid, issuer.url, wifSubject, "api://other", now.Add(-time.Minute), now.Add(time.Hour)), 400,
			append(aad(70021), "Assertion Audience: 'api://other'"), ""},
		"a federated assertion from a wrong issuer is AADSTS70021": {
			federated(issuer.key, issuer.kid, "https://127.0.0.1:1/elsewhere", wifSubject, wifAudience, now.Add(-time.Minute), now.Add(time.Hour)), 400,
			append(aad(70021), "Assertion Issuer: 'https://127.0.0.1:1/elsewhere'"), ""},
		"a federated assertion for a wrong subject is AADSTS70021": {
			federated(issuer.key, issuer.kid, issuer.url, "system:serviceaccount:default:other", wifAudience, now.Add(-time.Minute), now.Add(time.Hour)), 400,
			append(aad(70021), "Assertion Subject: 'system:serviceaccount:default:other'"), ""},
		"an expired federated assertion is AADSTS700024": {
			federated(issuer.key, issuer.kid, issuer.url, wifSubject, wifAudience, now.Add(-time.Hour), now.Add(-time.Minute)), 401,
			append(aad(700024), "Client assertion is not within its valid time range."), ""},
		"a federated assertion not yet valid beyond the clock skew is AADSTS700024": {
			federated(issuer.key, issuer.kid, issuer.url, wifSubject, wifAudience, now.Add(time.Hour), now.Add(2*time.Hour)), 401,
			append(aad(700024), "Client assertion is not within its valid time range."), ""},
		"an assertion signed by an expired certificate credential is AADSTS700027": {
			certAssertion(oldApp, oldCert, oldKey, oldApp.AppID, tokenEndpoint(tenantID)), 401,
			append(aad(700027), "The key used is expired."), ""},
		"an assertion signed by an unregistered certificate is AADSTS700027": {
			certAssertion(certApp, oldCert, oldKey, certApp.AppID, tokenEndpoint(tenantID)), 401,
			append(aad(700027), "is not registered on application"), ""},
		"a certificate assertion with a forged signature is AADSTS50013": {
			certAssertion(certApp, goodCert, otherKey, certApp.AppID, tokenEndpoint(tenantID)), 401,
			append(aad(50013), "Assertion failed signature validation."), ""},
		"a certificate assertion whose subject is not the client is AADSTS700021": {
			certAssertion(certApp, goodCert, goodKey, deployer.AppID, tokenEndpoint(tenantID)), 401, aad(700021), ""},
		"a certificate assertion for another audience is AADSTS50027": {
			certAssertion(certApp, goodCert, goodKey, certApp.AppID, "https://login.example.invalid/token"), 401, aad(50027), ""},

		// Key Vault.
		"an ARM token at Key Vault is 401 Unauthorized AKV10022 with a challenge": {
			get(vault+"secrets/db-password?api-version=7.4", deployerFor(armScope)), 401,
			[]string{`"code":"Unauthorized"`, "AKV10022: Invalid audience."}, kvChallenge},
		"another tenant's token at Key Vault is 401 Unauthorized AKV10032 with a challenge": {
			get(vault+"secrets/db-password?api-version=7.4", foreignFor(vaultScope)), 401,
			[]string{`"code":"Unauthorized"`, "AKV10032: Invalid issuer."}, kvChallenge},
		"a disabled secret version is 403 Forbidden SecretDisabled": {
			get(vault+"secrets/retired/"+disabledVer+"?api-version=7.4", deployerFor(vaultScope)), 403,
			[]string{`"code":"Forbidden"`, "Operation get is not allowed on a disabled secret.", `"innererror":{"code":"SecretDisabled"}`}, ""},
		"a secret whose current version is disabled is 403 Forbidden SecretDisabled": {
			get(vault+"secrets/retired?api-version=7.4", deployerFor(vaultScope)), 403,
			[]string{`"code":"Forbidden"`, `"innererror":{"code":"SecretDisabled"}`}, ""},

		// Azure Resource Manager.
		"a vault token at ARM is 401 InvalidAuthenticationTokenAudience": {
			get(armURL, deployerFor(vaultScope)), 401,
			[]string{`"code":"InvalidAuthenticationTokenAudience"`, "The access token has been obtained for wrong audience or resource 'https://vault.azure.net'."},
			`Bearer authorization_uri="`},
		"another tenant's token at ARM is 401 InvalidAuthenticationTokenTenant": {
			get(armURL, foreignFor(armScope)), 401,
			[]string{`"code":"InvalidAuthenticationTokenTenant"`, "The access token is from the wrong issuer", "It must match the tenant"},
			`Bearer authorization_uri="` + env.URL + `/` + tenantID + `"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := tc.do(t)
			if a.status != tc.status {
				t.Fatalf("status = %d, want %d\n%s", a.status, tc.status, a.body)
			}
			for _, want := range tc.want {
				if !strings.Contains(a.body, want) {
					t.Errorf("body lacks %q:\n%s", want, a.body)
				}
			}
			if got := a.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, tc.challenge) {
				t.Errorf("WWW-Authenticate = %q, want prefix %q", got, tc.challenge)
			}
		})
	}
}

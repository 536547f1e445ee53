package cloud_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
)

const registryWorld = `
tenants:
  - id: 11111111-0000-0000-0000-000000000001
    subscriptions:
      - id: 22222222-0000-0000-0000-000000000001
        resourceGroups:
          - name: rg
            location: westus2
          - name: rg2
    applications:
      - {name: puller, secrets: [{value: puller-secret}]}
      - {name: pusher, secrets: [{value: pusher-secret}]}
      - {name: nobody, secrets: [{value: nobody-secret}]}
`

const (
	regSub = "22222222-0000-0000-0000-000000000001"
	regRG  = "rg"
)

// registryEnv is a cloud with one registry holding app/web:v1 and a
// client that reaches <name>.azurecr.io through the front door.
type registryEnv struct {
	env    *cloudtest.Env
	reg    cloud.Registry
	tr     *http.Transport
	client *http.Client
	digest v1.Hash
}

func startRegistry(t *testing.T, spec cloud.RegistrySpec) *registryEnv {
	t.Helper()
	env := cloudtest.StartYAML(t, registryWorld)
	spec.SubscriptionID, spec.ResourceGroup = regSub, regRG
	if spec.Name == "" {
		spec.Name = "podidacr"
	}
	if spec.SKU == "" {
		spec.SKU = "Premium"
	}
	reg, err := env.Cloud.PutRegistry(spec)
	if err != nil {
		t.Fatal(err)
	}
	d := env.PushRandomImage(t, reg.Name, "app/web", "v1")
	tr := env.RegistryTransport(t)
	return &registryEnv{env: env, reg: reg, tr: tr, client: &http.Client{Transport: tr}, digest: d}
}

func (e *registryEnv) login() string { return cloud.RegistryLoginServer(e.reg.Name) }

func (e *registryEnv) appObjectID(t *testing.T, app string) string {
	a, ok := e.env.Cloud.Application(app)
	if !ok {
		t.Fatalf("no application %s", app)
	}
	return a.ObjectID
}

// aadToken gets an Azure AD token for app with azidentity, as the
// kubelet's credential provider or az does.
func (e *registryEnv) aadToken(t *testing.T, app, secret, scope string) string {
	t.Helper()
	a, _ := e.env.Cloud.Application(app)
	cred, err := azidentity.NewClientSecretCredential(e.env.TenantID, a.AppID, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: e.env.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// exchange posts to /oauth2/exchange exactly as the kubelet's
// acr-credential-provider does and returns the status and body.
func (e *registryEnv) exchange(t *testing.T, aad string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"access_token_refresh_token"}, "service": {e.login()}, "tenant": {e.env.TenantID}, "access_token": {aad}, "refresh_token": {aad}}
	resp, err := e.client.PostForm("https://"+e.login()+"/oauth2/exchange", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *registryEnv) refreshToken(t *testing.T, app, secret string) string {
	t.Helper()
	status, body := e.exchange(t, e.aadToken(t, app, secret, cloud.ACRAudience+"/.default"))
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil || out.RefreshToken == "" {
		t.Fatalf("exchange = %d %s", status, body)
	}
	return out.RefreshToken
}

// keychain answers like the kubelet credential provider: the null GUID
// with the ACR refresh token as password.
type keychain struct{ user, password, identityToken string }

func (k keychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.password, IdentityToken: k.identityToken}), nil
}

func (e *registryEnv) pull(ref string, kc authn.Keychain) (v1.Image, error) {
	r, err := name.ParseReference(e.login() + "/" + ref)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r, remote.WithTransport(e.tr), remote.WithAuthFromKeychain(kc))
	if err != nil {
		return nil, err
	}
	// Fetch every layer, as a real pull does.
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	return img, nil
}

func transportErr(t *testing.T, err error, status int) *transport.Error {
	t.Helper()
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != status {
		t.Fatalf("error = %v, want HTTP %d", err, status)
	}
	return te
}

func get(t *testing.T, c *http.Client, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRegistryPullWithAcrPullThroughExchange(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{})
	if _, err := e.env.Cloud.GrantRole(e.appObjectID(t, "puller"), "AcrPull", e.reg.ID); err != nil {
		t.Fatal(err)
	}
	rt := e.refreshToken(t, "puller", "puller-secret")

	// The kubelet's way: Basic with the null GUID (GET /oauth2/token).
	img, err := e.pull("app/web:v1", keychain{user: "00000000-0000-0000-0000-000000000000", password: rt})
	if err != nil {
		t.Fatalf("pull with AcrPull: %v", err)
	}
	if d, _ := img.Digest(); d != e.digest {
		t.Fatalf("pulled digest %s, pushed %s", d, e.digest)
	}
	// docker's identity-token way (az acr login): POST grant_type=refresh_token.
	if _, err := e.pull("app/web@"+e.digest.String(), keychain{identityToken: rt}); err != nil {
		t.Fatalf("pull by digest with an identity token: %v", err)
	}
	// A refresh token can itself be exchanged for a fresh one.
	resp, err := e.client.PostForm("https://"+e.login()+"/oauth2/exchange", url.Values{"grant_type": {"refresh_token"}, "service": {e.login()}, "refresh_token": {rt}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange of a refresh token = %d", resp.StatusCode)
	}
	// An ARM-audience token (canipull, older plugins) is accepted while the policy allows it.
	if status, body := e.exchange(t, e.aadToken(t, "puller", "puller-secret", "https://management.azure.com/.default")); status != http.StatusOK {
		t.Fatalf("exchange of an ARM token = %d %s", status, body)
	}

	// Wrong tag: MANIFEST_UNKNOWN; unknown repository: NAME_UNKNOWN, in ACR's words.
	kc := keychain{user: "00000000-0000-0000-0000-000000000000", password: rt}
	_, err = e.pull("app/web:v2", kc)
	te := transportErr(t, err, http.StatusNotFound)
	if len(te.Errors) != 1 || te.Errors[0].Code != "MANIFEST_UNKNOWN" || te.Errors[0].Message != `manifest tagged by "v2" is not found` {
		t.Fatalf("wrong tag = %+v", te.Errors)
	}
	_, err = e.pull("app/nope:v1", kc)
	te = transportErr(t, err, http.StatusNotFound)
	if len(te.Errors) != 1 || te.Errors[0].Code != "NAME_UNKNOWN" || te.Errors[0].Message != `repository "app/nope" is not found` {
		t.Fatalf("unknown repository = %+v", te.Errors)
	}

	// Push is refused to AcrPull: the token grants pull only, the upload 401s.
	r, _ := name.ParseReference(e.login() + "/app/web:v9")
	other, _ := random.Image(64, 1)
	err = remote.Write(r, other, remote.WithTransport(e.tr), remote.WithAuthFromKeychain(kc))
	te = transportErr(t, err, http.StatusUnauthorized)
	if len(te.Errors) == 0 || te.Errors[0].Code != "UNAUTHORIZED" {
		t.Fatalf("push with AcrPull = %+v", te.Errors)
	}
}

func TestRegistryPushWithAcrPush(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{})
	if _, err := e.env.Cloud.GrantRole(e.appObjectID(t, "pusher"), "AcrPush", e.reg.ID); err != nil {
		t.Fatal(err)
	}
	kc := keychain{user: "00000000-0000-0000-0000-000000000000", password: e.refreshToken(t, "pusher", "pusher-secret")}
	r, _ := name.ParseReference(e.login() + "/team/api:1.0")
	img, _ := random.Image(256, 1)
	if err := remote.Write(r, img, remote.WithTransport(e.tr), remote.WithAuthFromKeychain(kc)); err != nil {
		t.Fatalf("push with AcrPush: %v", err)
	}
	got, err := e.pull("team/api:1.0", kc)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustDigest(t, got), mustDigest(t, img); a != b {
		t.Fatalf("pulled %s, pushed %s", a, b)
	}
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRegistryRefusals(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{SKU: "Standard"})
	login := e.login()
	null := "00000000-0000-0000-0000-000000000000"

	t.Run("no credentials get ACR's challenge", func(t *testing.T) {
		resp, body := get(t, e.client, "https://"+login+"/v2/", nil)
		if resp.StatusCode != http.StatusUnauthorized ||
			resp.Header.Get("Www-Authenticate") != `Bearer realm="https://`+login+`/oauth2/token",service="`+login+`"` ||
			strings.TrimSpace(body) != `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":null}]}` {
			t.Fatalf("GET /v2/ = %d %q %s", resp.StatusCode, resp.Header.Get("Www-Authenticate"), body)
		}
		resp, body = get(t, e.client, "https://"+login+"/v2/app/web/manifests/v1", nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasSuffix(resp.Header.Get("Www-Authenticate"), `,scope="repository:app/web:pull"`) ||
			!strings.Contains(body, `"detail":[{"Type":"repository","Name":"app/web","Action":"pull"}]`) {
			t.Fatalf("GET manifest = %d %q %s", resp.StatusCode, resp.Header.Get("Www-Authenticate"), body)
		}
	})
	t.Run("an identity without a role is refused a token with 401", func(t *testing.T) {
		_, err := e.pull("app/web:v1", keychain{user: null, password: e.refreshToken(t, "nobody", "nobody-secret")})
		te := transportErr(t, err, http.StatusUnauthorized)
		if len(te.Errors) != 1 || te.Errors[0].Code != "UNAUTHORIZED" || te.Errors[0].Message != "authentication required, visit https://aka.ms/acr/authorization for more information." {
			t.Fatalf("errors = %+v", te.Errors)
		}
	})
	t.Run("anonymous pull is refused while disabled", func(t *testing.T) {
		_, err := e.pull("app/web:v1", authn.NewMultiKeychain())
		transportErr(t, err, http.StatusUnauthorized)
	})
	t.Run("the exchange refuses an expired, forged or foreign-audience token", func(t *testing.T) {
		for name, tok := range map[string]string{
			"forged":         "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
			"vault audience": e.aadToken(t, "puller", "puller-secret", "https://vault.azure.net/.default"),
		} {
			if status, body := e.exchange(t, tok); status != http.StatusUnauthorized || !strings.Contains(body, `"code":"UNAUTHORIZED"`) {
				t.Fatalf("%s token: exchange = %d %s", name, status, body)
			}
		}
		resp, err := e.client.Get("https://" + login + "/oauth2/exchange")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /oauth2/exchange = %d, want 404", resp.StatusCode)
		}
	})
	t.Run("containerd's password-grant POST of the null GUID gets 400", func(t *testing.T) {
		form := url.Values{"grant_type": {"password"}, "username": {null}, "password": {"x"}, "service": {login}, "scope": {"repository:app/web:pull"}, "client_id": {"containerd-client"}}
		resp, err := e.client.PostForm("https://"+login+"/oauth2/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400", resp.StatusCode)
		}
	})
}

func TestRegistryExpiredAADTokenAtExchange(t *testing.T) {
	w, err := world.Parse("world.yaml", []byte(registryWorld))
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	var offset atomic.Int64
	c, err := cloud.Start(context.Background(), cloud.Options{Seed: st, Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	reg, err := c.PutRegistry(cloud.RegistrySpec{SubscriptionID: regSub, ResourceGroup: regRG, Name: "expiryacr"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.RegistryTransport()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	hc := c.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	a, _ := c.Application("puller")
	cred, err := azidentity.NewClientSecretCredential(st.Tenants[0].ID, a.AppID, "puller-secret", &azidentity.ClientSecretCredentialOptions{
		ClientOptions: policy.ClientOptions{Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityURL()}, Transport: hc, Retry: policy.RetryOptions{MaxRetries: -1}}, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{cloud.ACRAudience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(2 * time.Hour))
	login := cloud.RegistryLoginServer(reg.Name)
	resp, err := (&http.Client{Transport: tr}).PostForm("https://"+login+"/oauth2/exchange",
		url.Values{"grant_type": {"access_token"}, "service": {login}, "access_token": {tok.Token}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "The access token has expired.") {
		t.Fatalf("exchange of an expired token = %d %s", resp.StatusCode, body)
	}
}

func TestRegistryARMTokensDisabled(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{ARMTokensDisabled: true})
	status, body := e.exchange(t, e.aadToken(t, "puller", "puller-secret", "https://management.azure.com/.default"))
	if status != http.StatusUnauthorized || !strings.Contains(body, "azureADAuthenticationAsArmPolicy") {
		t.Fatalf("exchange of an ARM token = %d %s", status, body)
	}
	if status, body := e.exchange(t, e.aadToken(t, "puller", "puller-secret", cloud.ACRAudience+"/.default")); status != http.StatusOK {
		t.Fatalf("exchange of an ACR token = %d %s", status, body)
	}
}

func TestRegistryAnonymousPull(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{SKU: "Standard", AnonymousPull: true})
	if _, err := e.pull("app/web:v1", authn.NewMultiKeychain()); err != nil {
		t.Fatalf("anonymous pull: %v", err)
	}
	r, _ := name.ParseReference(e.login() + "/app/web:v2")
	img, _ := random.Image(64, 1)
	err := remote.Write(r, img, remote.WithTransport(e.tr))
	transportErr(t, err, http.StatusUnauthorized)
}

func TestRegistryFirewall(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{DefaultAction: "Deny", IPRules: []string{"10.1.0.0/16"}})
	if _, err := e.env.Cloud.GrantRole(e.appObjectID(t, "puller"), "AcrPull", e.reg.ID); err != nil {
		t.Fatal(err)
	}
	want := `{"errors":[{"code":"DENIED","message":"client with IP '127.0.0.1' is not allowed access. Refer https://aka.ms/acr/firewall to grant access. CorrelationId: `
	status, body := e.exchange(t, e.aadToken(t, "puller", "puller-secret", cloud.ACRAudience+"/.default"))
	if status != http.StatusForbidden || !strings.HasPrefix(body, want) {
		t.Fatalf("exchange behind the firewall = %d %s", status, body)
	}
	// Anonymous /v2/ still gets the challenge, as on Azure; the token endpoint is what refuses.
	if resp, _ := get(t, e.client, "https://"+e.login()+"/v2/", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ behind the firewall = %d, want 401", resp.StatusCode)
	}
	_, err := e.pull("app/web:v1", authn.NewMultiKeychain())
	te := transportErr(t, err, http.StatusForbidden)
	if len(te.Errors) != 1 || te.Errors[0].Code != "DENIED" || !strings.Contains(te.Errors[0].Message, "client with IP '127.0.0.1' is not allowed access") {
		t.Fatalf("errors = %+v", te.Errors)
	}

	// An IP rule for the client lets it through.
	if _, err := e.env.Cloud.PutRegistry(cloud.RegistrySpec{SubscriptionID: regSub, ResourceGroup: regRG, Name: e.reg.Name, SKU: "Premium", DefaultAction: "Deny", IPRules: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pull("app/web:v1", keychain{user: "00000000-0000-0000-0000-000000000000", password: e.refreshToken(t, "puller", "puller-secret")}); err != nil {
		t.Fatalf("pull with an IP rule: %v", err)
	}

	// Disabled public access refuses even an allowed IP.
	if _, err := e.env.Cloud.PutRegistry(cloud.RegistrySpec{SubscriptionID: regSub, ResourceGroup: regRG, Name: e.reg.Name, SKU: "Premium", PublicNetworkAccess: "Disabled", IPRules: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if status, body := e.exchange(t, e.aadToken(t, "puller", "puller-secret", cloud.ACRAudience+"/.default")); status != http.StatusForbidden || !strings.Contains(body, `"code":"DENIED"`) {
		t.Fatalf("exchange with public access disabled = %d %s", status, body)
	}
}

func TestRegistryABACRepositoryCondition(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{RoleAssignmentMode: cloud.RoleModeABAC})
	e.env.PushRandomImage(t, e.reg.Name, "nginx", "latest")
	oid := e.appObjectID(t, "puller")
	// AcrPull is not honoured in ABAC mode.
	if _, err := e.env.Cloud.GrantRole(oid, "AcrPull", e.reg.ID); err != nil {
		t.Fatal(err)
	}
	kc := keychain{user: "00000000-0000-0000-0000-000000000000", password: e.refreshToken(t, "puller", "puller-secret")}
	_, err := e.pull("nginx:latest", kc)
	transportErr(t, err, http.StatusUnauthorized)

	cond := `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'nginx'))`
	if _, err := e.env.Cloud.GrantRoleWithCondition(oid, "Container Registry Repository Reader", e.reg.ID, cond); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pull("nginx:latest", kc); err != nil {
		t.Fatalf("pull of the repository the condition names: %v", err)
	}
	_, err = e.pull("app/web:v1", kc)
	transportErr(t, err, http.StatusUnauthorized)
}

func TestRegistryServicePrincipalBasicAuthAndCatalog(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{})
	puller, _ := e.env.Cloud.Application("puller")
	if _, err := e.env.Cloud.GrantRole(puller.ObjectID, "AcrPull", e.reg.ID); err != nil {
		t.Fatal(err)
	}
	// A service-principal cluster hands the app ID and secret straight to the registry.
	if _, err := e.pull("app/web:v1", keychain{user: puller.AppID, password: "puller-secret"}); err != nil {
		t.Fatalf("pull with the service principal's secret: %v", err)
	}
	_, err := e.pull("app/web:v1", keychain{user: puller.AppID, password: "wrong"})
	te := transportErr(t, err, http.StatusUnauthorized)
	if len(te.Errors) != 1 || !strings.Contains(te.Errors[0].Message, "AADSTS7000215") {
		t.Fatalf("wrong secret = %+v", te.Errors)
	}
	_, err = e.pull("app/web:v1", keychain{user: "9a1c7d2e-0000-0000-0000-000000000000", password: "x"})
	te = transportErr(t, err, http.StatusUnauthorized)
	if len(te.Errors) != 1 || te.Errors[0].Message != "Application not registered with AAD." {
		t.Fatalf("unknown username = %+v", te.Errors)
	}

	// The catalog, with a token for registry:catalog:*.
	q := url.Values{"service": {e.login()}, "scope": {"registry:catalog:*"}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+e.login()+"/oauth2/token?"+q.Encode(), nil)
	req.SetBasicAuth("00000000-0000-0000-0000-000000000000", e.refreshToken(t, "puller", "puller-secret"))
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("catalog token: %d %v", resp.StatusCode, err)
	}
	resp2, body := get(t, e.client, "https://"+e.login()+"/v2/_catalog", map[string]string{"Authorization": "Bearer " + tok.AccessToken})
	if resp2.StatusCode != http.StatusOK || !strings.Contains(body, `"app/web"`) {
		t.Fatalf("catalog = %d %s", resp2.StatusCode, body)
	}
	// The catalog token does not open a repository.
	resp2, _ = get(t, e.client, "https://"+e.login()+"/v2/app/web/tags/list", map[string]string{"Authorization": "Bearer " + tok.AccessToken})
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("tags with a catalog token = %d", resp2.StatusCode)
	}
	// A registry that does not exist has nothing behind its name.
	resp2, body = get(t, e.client, "https://nosuchacr.azurecr.io/v2/", nil)
	if resp2.StatusCode != http.StatusNotFound || !strings.Contains(body, "No registry named 'nosuchacr'") {
		t.Fatalf("unknown registry = %d %s", resp2.StatusCode, body)
	}
}

// accessToken asks /oauth2/token for scope with the refresh token, as
// containerd's GET with Basic does.
func (e *registryEnv) accessToken(t *testing.T, refresh, scope string) (int, string) {
	t.Helper()
	q := url.Values{"service": {e.login()}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+e.login()+"/oauth2/token?"+q.Encode(), nil)
	req.SetBasicAuth("00000000-0000-0000-0000-000000000000", refresh)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	return resp.StatusCode, tok.AccessToken
}

func TestRegistryRolesByMode(t *testing.T) {
	cases := map[string]struct {
		mode, role string
		pull       bool
	}{
		"Reader pulls in rbac mode through */read":              {cloud.RoleModeRBAC, "Reader", true},
		"Contributor pulls in rbac mode":                        {cloud.RoleModeRBAC, "Contributor", true},
		"Repository Reader does not pull in rbac mode":          {cloud.RoleModeRBAC, "Container Registry Repository Reader", false},
		"Owner gives only the control plane in abac mode":       {cloud.RoleModeABAC, "Owner", false},
		"AcrPush is not honoured in abac mode":                  {cloud.RoleModeABAC, "AcrPush", false},
		"an unconditional Repository Reader pulls in abac mode": {cloud.RoleModeABAC, "Container Registry Repository Reader", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := startRegistry(t, cloud.RegistrySpec{RoleAssignmentMode: tc.mode})
			if _, err := e.env.Cloud.GrantRole(e.appObjectID(t, "nobody"), tc.role, "/subscriptions/"+regSub+"/resourceGroups/"+regRG); err != nil {
				t.Fatal(err)
			}
			status, tok := e.accessToken(t, e.refreshToken(t, "nobody", "nobody-secret"), "repository:app/web:pull")
			if (status == http.StatusOK) != tc.pull {
				t.Fatalf("token for pull = %d, want pull allowed %v", status, tc.pull)
			}
			if !tc.pull {
				return
			}
			var claims struct {
				Iss, GrantType string
				Aud            any
				Access         []struct {
					Type, Name string
					Actions    []string
				}
			}
			parts := strings.Split(tok, ".")
			raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			b, _ := json.Marshal(map[string]any{"iss": m["iss"], "grantType": m["grant_type"], "aud": m["aud"], "access": m["access"]})
			_ = json.Unmarshal(b, &claims)
			if claims.Iss != "Azure Container Registry" || claims.GrantType != "access_token" || claims.Aud != e.login() ||
				len(claims.Access) != 1 || claims.Access[0].Type != "repository" || claims.Access[0].Name != "app/web" || strings.Join(claims.Access[0].Actions, ",") != "pull" {
				t.Fatalf("access token claims = %s", raw)
			}
			// HEAD of a missing tag answers 404 without a body, as containerd sees it.
			req, _ := http.NewRequest(http.MethodHead, "https://"+e.login()+"/v2/app/web/manifests/nope", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || len(b) != 0 {
				t.Fatalf("HEAD of a missing tag = %d %q", resp.StatusCode, b)
			}
		})
	}
}

func TestRegistryStatePersists(t *testing.T) {
	dir := t.TempDir()
	w, err := world.Parse("world.yaml", []byte(registryWorld))
	if err != nil {
		t.Fatal(err)
	}
	env := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: dir})
	if _, err := env.Cloud.PutRegistry(cloud.RegistrySpec{SubscriptionID: regSub, ResourceGroup: regRG, Name: "keptacr", SKU: "Premium", DefaultAction: "Deny", IPRules: []string{"10.0.0.0/8"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Cloud.Close(); err != nil {
		t.Fatal(err)
	}
	again := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: dir})
	r, ok := again.Cloud.Registry("KeptAcr")
	if !ok || r.DefaultAction != "Deny" || len(r.IPRules) != 1 || r.LoginServer() != "keptacr.azurecr.io" {
		t.Fatalf("registry after restart = %+v, %v", r, ok)
	}
}

func TestRegistryAnonymousTokenWithoutScope(t *testing.T) {
	for name, tc := range map[string]struct {
		anonymous bool
		want      int
	}{"refused while anonymous pull is disabled": {false, http.StatusUnauthorized}, "issued while it is enabled": {true, http.StatusOK}} {
		t.Run(name, func(t *testing.T) {
			e := startRegistry(t, cloud.RegistrySpec{SKU: "Standard", AnonymousPull: tc.anonymous})
			resp, body := get(t, e.client, "https://"+e.login()+"/oauth2/token?service="+e.login(), nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("anonymous token without scope = %d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestRegistryTokensAreBoundToTheirRegistry(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{})
	oid := e.appObjectID(t, "puller")
	other, err := e.env.Cloud.PutRegistry(cloud.RegistrySpec{SubscriptionID: regSub, ResourceGroup: regRG, Name: "otheracr"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{e.reg.ID, other.ID} {
		if _, err := e.env.Cloud.GrantRole(oid, "AcrPull", id); err != nil {
			t.Fatal(err)
		}
	}
	rt := e.refreshToken(t, "puller", "puller-secret")
	if status, _ := e.accessToken(t, rt, "repository:app/web:pull"); status != http.StatusOK {
		t.Fatalf("token at its own registry = %d", status)
	}
	q := url.Values{"service": {"otheracr.azurecr.io"}, "scope": {"repository:app/web:pull"}}
	req, _ := http.NewRequest(http.MethodGet, "https://otheracr.azurecr.io/oauth2/token?"+q.Encode(), nil)
	req.SetBasicAuth("00000000-0000-0000-0000-000000000000", rt)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("another registry's refresh token = %d, want 401", resp.StatusCode)
	}
}

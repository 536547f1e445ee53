package cloud_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
)

const (
	peopleTenant  = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
	otherTenant   = "4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"
	aliceOID      = "a11ce000-0000-4000-8000-000000000001"
	adminsGroupID = "9a000000-0000-4000-8000-0000000000a1"
	platformGroup = "9a000000-0000-4000-8000-0000000000a2"
	aksScope      = cloud.AKSServerAppID + "/.default"
)

// peopleWorld has a person in a nested group, a disabled person, a
// confidential app that is itself a group member, and a second tenant
// with a person of its own.
const peopleWorld = `
tenants:
  - id: ` + peopleTenant + `
    name: contoso
    applications:
      - name: ci
        secrets:
          - value: ci-secret
    users:
      - userPrincipalName: alice@contoso.com
        displayName: Alice Smith
        password: alice-pw
        objectId: ` + aliceOID + `
      - userPrincipalName: dave@contoso.com
        password: dave-pw
        disabled: true
    groups:
      - name: aks-admins
        objectId: ` + adminsGroupID + `
        members: [alice@contoso.com]
      - name: platform
        objectId: ` + platformGroup + `
        members: [aks-admins, ci]
  - id: ` + otherTenant + `
    name: fabrikam
    users:
      - userPrincipalName: bob@fabrikam.com
        password: bob-pw
`

// settableClock is the cloud's clock in tests that expire device codes.
type settableClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *settableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

var (
	peopleKeyOnce sync.Once
	peopleKey     *rsa.PrivateKey
)

// startPeople runs a cloud seeded with body on clock.
func startPeople(t *testing.T, body string, clock *settableClock) *cloud.Cloud {
	t.Helper()
	w, err := world.Parse("world.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	peopleKeyOnce.Do(func() { peopleKey, _ = rsa.GenerateKey(rand.Reader, 2048) })
	c, err := cloud.Start(context.Background(), cloud.Options{Seed: st, SigningKey: peopleKey, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func peopleClientOptions(c *cloud.Cloud) azcore.ClientOptions {
	return policy.ClientOptions{Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityURL()}, Transport: c.HTTPClient(),
		Retry: policy.RetryOptions{MaxRetries: -1}}
}

// approveOverAdminAPI is what an operator's `podid cloud device approve` sends.
func approveOverAdminAPI(c *cloud.Cloud, verb string, d cloud.DeviceDecision) (int, string, error) {
	b, _ := json.Marshal(d)
	req, _ := http.NewRequest(http.MethodPost, c.URL()+"/admin/deviceCodes/"+verb, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+c.AdminToken())
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String(), nil
}

func claimsOf(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return &peopleKey.PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
		t.Fatalf("verify token: %v", err)
	}
	return claims
}

func groupsClaim(claims jwt.MapClaims) []string {
	var out []string
	list, _ := claims["groups"].([]any)
	for _, g := range list {
		out = append(out, fmt.Sprint(g))
	}
	slices.Sort(out)
	return out
}

func TestDeviceCodeCredentialSignsInThroughTheAdminAPI(t *testing.T) {
	c := startPeople(t, peopleWorld, &settableClock{})
	prompts := 0
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: peopleClientOptions(c), TenantID: peopleTenant, ClientID: cloud.AKSClientAppID, DisableInstanceDiscovery: true,
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			prompts++
			if !strings.Contains(m.Message, "podid cloud device approve --user <your UPN> --code "+m.UserCode) {
				t.Errorf("the prompt does not say how to approve in the embedded cloud: %q", m.Message)
			}
			status, body, err := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: strings.ToLower(m.UserCode), User: "Alice@Contoso.com", Password: "alice-pw"})
			if err != nil || status != http.StatusOK {
				return fmt.Errorf("approve: %d %s %v", status, body, err)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, cred, aksScope)
	if err != nil {
		t.Fatal(err)
	}
	claims := claimsOf(t, tok)
	want := map[string]any{"aud": cloud.AKSServerAppID, "upn": "alice@contoso.com", "oid": aliceOID, "tid": peopleTenant,
		"appid": cloud.AKSClientAppID, "scp": "user.read", "name": "Alice Smith"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if got := groupsClaim(claims); !slices.Equal(got, []string{adminsGroupID, platformGroup}) {
		t.Errorf("groups = %v, want the direct group and the one nesting it", got)
	}

	// A token for another resource comes from the refresh token: no new prompt.
	arm, err := getToken(t, cred, "https://management.azure.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	armClaims := claimsOf(t, arm)
	if prompts != 1 || armClaims["aud"] != "https://management.azure.com" || armClaims["upn"] != "alice@contoso.com" || armClaims["groups"] != nil {
		t.Fatalf("second token: %d prompts, claims %v; want one prompt, an ARM token for alice without group claims", prompts, armClaims)
	}
}

func TestUsernamePasswordCredential(t *testing.T) {
	c := startPeople(t, peopleWorld, &settableClock{})
	ci, _ := c.Application("ci")
	cases := map[string]struct {
		tenant, client, user, password string
		wantCode                       string // "" means a token
	}{
		"alice signs in with the AKS client":                     {peopleTenant, cloud.AKSClientAppID, "alice@contoso.com", "alice-pw", ""},
		"a wrong password is AADSTS50126":                        {peopleTenant, cloud.AKSClientAppID, "alice@contoso.com", "nope", "AADSTS50126"},
		"an unknown user of a known domain is AADSTS50034":       {peopleTenant, cloud.AKSClientAppID, "eve@contoso.com", "x", "AADSTS50034"},
		"a user of another tenant is AADSTS50034 here":           {peopleTenant, cloud.AKSClientAppID, "bob@fabrikam.com", "bob-pw", "AADSTS50034"},
		"a disabled user is AADSTS50057":                         {peopleTenant, cloud.AKSClientAppID, "dave@contoso.com", "dave-pw", "AADSTS50057"},
		"an unknown client is AADSTS700016":                      {peopleTenant, "99999999-9999-4999-8999-999999999999", "alice@contoso.com", "alice-pw", "AADSTS700016"},
		"a confidential app without its secret is AADSTS7000218": {peopleTenant, ci.AppID, "alice@contoso.com", "alice-pw", "AADSTS7000218"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			//nolint:staticcheck // ROPC is deprecated but is what kubelogin -l ropc does.
			cred, err := azidentity.NewUsernamePasswordCredential(tc.tenant, tc.client, tc.user, tc.password,
				&azidentity.UsernamePasswordCredentialOptions{ClientOptions: peopleClientOptions(c), DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := getToken(t, cred, aksScope)
			if tc.wantCode != "" {
				var af *azidentity.AuthenticationFailedError
				if !errors.As(err, &af) || !strings.Contains(err.Error(), tc.wantCode) {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if claims := claimsOf(t, tok); claims["upn"] != tc.user || claims["aud"] != cloud.AKSServerAppID {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
}

func TestGroupOverageAt201Groups(t *testing.T) {
	for _, n := range []int{200, 201} {
		t.Run(fmt.Sprintf("%d groups", n), func(t *testing.T) {
			var b strings.Builder
			b.WriteString(peopleWorld[:strings.Index(peopleWorld, "    groups:")])
			b.WriteString("    groups:\n")
			for i := range n {
				fmt.Fprintf(&b, "      - name: g%03d\n        members: [alice@contoso.com]\n", i)
			}
			c := startPeople(t, b.String(), &settableClock{})
			//nolint:staticcheck // ROPC is deprecated but is what kubelogin -l ropc does.
			cred, err := azidentity.NewUsernamePasswordCredential(peopleTenant, cloud.AKSClientAppID, "alice@contoso.com", "alice-pw",
				&azidentity.UsernamePasswordCredentialOptions{ClientOptions: peopleClientOptions(c), DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := getToken(t, cred, aksScope)
			if err != nil {
				t.Fatal(err)
			}
			claims := claimsOf(t, tok)
			names, _ := claims["_claim_names"].(map[string]any)
			if n == 200 {
				if len(groupsClaim(claims)) != 200 || names != nil {
					t.Fatalf("200 groups: %d in groups, _claim_names %v; want all 200 listed", len(groupsClaim(claims)), names)
				}
				return
			}
			sources, _ := claims["_claim_sources"].(map[string]any)
			src, _ := sources[fmt.Sprint(names["groups"])].(map[string]any)
			if claims["groups"] != nil || !strings.HasSuffix(fmt.Sprint(src["endpoint"]), "/users/"+aliceOID+"/getMemberObjects") {
				t.Fatalf("201 groups: groups %v, _claim_names %v, _claim_sources %v; want the overage indicator only", claims["groups"], names, sources)
			}
		})
	}
}

func TestServicePrincipalTokenForAKSCarriesItsGroups(t *testing.T) {
	c := startPeople(t, peopleWorld, &settableClock{})
	ci, _ := c.Application("ci")
	cred, err := azidentity.NewClientSecretCredential(peopleTenant, ci.AppID, "ci-secret", &azidentity.ClientSecretCredentialOptions{
		ClientOptions: peopleClientOptions(c), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	aks, err := getToken(t, cred, aksScope)
	if err != nil {
		t.Fatal(err)
	}
	if claims := claimsOf(t, aks); !slices.Equal(groupsClaim(claims), []string{platformGroup}) || claims["idtyp"] != "app" || claims["upn"] != nil {
		t.Fatalf("AKS token of the ci app: %v; want an app token listing its group", claims)
	}
	vault, err := getToken(t, cred, "https://vault.azure.net/.default")
	if err != nil {
		t.Fatal(err)
	}
	if claims := claimsOf(t, vault); claims["groups"] != nil {
		t.Fatalf("vault token of the ci app carries groups %v; only APIs that ask for them get them", claims["groups"])
	}
}

func TestDeviceCodeCredentialWithAnUnknownClient(t *testing.T) {
	c := startPeople(t, peopleWorld, &settableClock{})
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: peopleClientOptions(c), TenantID: peopleTenant, ClientID: "99999999-9999-4999-8999-999999999999", DisableInstanceDiscovery: true,
		UserPrompt: func(context.Context, azidentity.DeviceCodeMessage) error {
			t.Error("the client was prompted for a sign-in its app cannot start")
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t, cred, aksScope); err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Fatalf("error = %v, want AADSTS700016", err)
	}
}

// TestDeviceCodeAuthenticationRecord has azidentity build the account
// record kubelogin caches (auth.json) from the ID token and client_info.
func TestDeviceCodeAuthenticationRecord(t *testing.T) {
	c := startPeople(t, peopleWorld, &settableClock{})
	approve := func(_ context.Context, m azidentity.DeviceCodeMessage) error {
		_, _, err := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: m.UserCode, User: "alice@contoso.com"})
		return err
	}
	opts := &azidentity.DeviceCodeCredentialOptions{ClientOptions: peopleClientOptions(c), TenantID: peopleTenant, ClientID: cloud.AKSClientAppID,
		DisableInstanceDiscovery: true, UserPrompt: approve}
	cred, err := azidentity.NewDeviceCodeCredential(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rec, err := cred.Authenticate(ctx, &policy.TokenRequestOptions{Scopes: []string{aksScope}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Username != "alice@contoso.com" || rec.HomeAccountID != aliceOID+"."+peopleTenant || rec.TenantID != peopleTenant || rec.ClientID != cloud.AKSClientAppID {
		t.Fatalf("authentication record = %+v", rec)
	}
}

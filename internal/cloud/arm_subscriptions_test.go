package cloud_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

const (
	listTenantA = "6f0c6a50-3b0c-4d6b-9d38-2f4a0c1b7a01"
	listTenantB = "6f0c6a50-3b0c-4d6b-9d38-2f4a0c1b7a02"
	listSubAKS  = "0b1c2d3e-0000-4000-8000-000000000001"
	listSubData = "0b1c2d3e-0000-4000-8000-000000000002"
	listSubB    = "0b1c2d3e-0000-4000-8000-000000000003"
)

// listWorld has two tenants; principals of tenant A hold role assignments at
// every level of the scope hierarchy (root, subscription, resource group,
// resource) or none at all.
const listWorld = `
tenants:
  - id: ` + listTenantA + `
    name: contoso
    subscriptions:
      - id: ` + listSubAKS + `
        name: aks
        resourceGroups:
          - name: rg-aks
            location: westus2
            vaults:
              - name: kv-list
      - id: ` + listSubData + `
        name: data
        resourceGroups:
          - name: rg-data
            location: westus2
    applications:
      - name: owner
        secrets: [{value: pw}]
      - name: rg-reader
        secrets: [{value: pw}]
      - name: kv-user
        secrets: [{value: pw}]
      - name: root-reader
        secrets: [{value: pw}]
      - name: nobody
        secrets: [{value: pw}]
    roleAssignments:
      - {principal: owner, role: Owner, scope: subscription/aks}
      - {principal: rg-reader, role: Reader, scope: resourceGroup/rg-data}
      - {principal: kv-user, role: Key Vault Secrets User, scope: vault/kv-list}
      - {principal: root-reader, role: Reader, scope: /}
  - id: ` + listTenantB + `
    name: fabrikam.example
    subscriptions:
      - id: ` + listSubB + `
        name: other
    applications:
      - name: b-owner
        secrets: [{value: pw}]
    roleAssignments:
      - {principal: b-owner, role: Owner, scope: subscription/other}
`

// Shapes of armsubscriptions.SubscriptionListResult and TenantListResult.
type listedSubscription struct {
	ID                   string `json:"id"`
	SubscriptionID       string `json:"subscriptionId"`
	TenantID             string `json:"tenantId"`
	DisplayName          string `json:"displayName"`
	State                string `json:"state"`
	AuthorizationSource  string `json:"authorizationSource"`
	ManagedByTenants     []any  `json:"managedByTenants"`
	SubscriptionPolicies *struct {
		QuotaID string `json:"quotaId"`
	} `json:"subscriptionPolicies"`
}

type listedTenant struct {
	ID             string   `json:"id"`
	TenantID       string   `json:"tenantId"`
	TenantCategory string   `json:"tenantCategory"`
	DisplayName    string   `json:"displayName"`
	DefaultDomain  string   `json:"defaultDomain"`
	Domains        []string `json:"domains"`
}

// armList GETs path through a real ARM pipeline (bearer policy, ARM
// audience) and decodes {"value": [...]}.
func armList[T any](t *testing.T, env *cloudtest.Env, cred azcore.TokenCredential, path string) ([]T, error) {
	t.Helper()
	client, err := arm.NewClient("podid.test", "v0.0.1", cred, armOptions(env))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req, err := runtime.NewRequest(ctx, http.MethodGet, runtime.JoinPaths(client.Endpoint(), path))
	if err != nil {
		t.Fatal(err)
	}
	q := req.Raw().URL.Query()
	q.Set("api-version", "2022-12-01")
	req.Raw().URL.RawQuery = q.Encode()
	resp, err := client.Pipeline().Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return nil, runtime.NewResponseError(resp)
	}
	var page struct {
		Value    []T     `json:"value"`
		NextLink *string `json:"nextLink"`
	}
	if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
		t.Fatal(err)
	}
	if page.Value == nil || page.NextLink != nil {
		t.Fatalf("%s: value = %v, nextLink = %v; want a non-null single page", path, page.Value, page.NextLink)
	}
	return page.Value, nil
}

func appCred(t *testing.T, env *cloudtest.Env, tenant, name string) azcore.TokenCredential {
	t.Helper()
	app, ok := env.Cloud.Application(name)
	if !ok {
		t.Fatalf("no application %q", name)
	}
	cred, err := azidentity.NewClientSecretCredential(tenant, app.AppID, "pw", &azidentity.ClientSecretCredentialOptions{
		ClientOptions: env.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func TestARMListSubscriptionsAndTenants(t *testing.T) {
	env := cloudtest.StartYAML(t, listWorld)
	cases := []struct {
		name, tenant, app string
		subs              []string
	}{
		{"owner on subscription", listTenantA, "owner", []string{listSubAKS}},
		{"reader on resource group", listTenantA, "rg-reader", []string{listSubData}},
		{"data role on a vault", listTenantA, "kv-user", []string{listSubAKS}},
		{"reader at root sees its tenant only", listTenantA, "root-reader", []string{listSubAKS, listSubData}},
		{"no role assignments", listTenantA, "nobody", []string{}},
		{"other tenant", listTenantB, "b-owner", []string{listSubB}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cred := appCred(t, env, tc.tenant, tc.app)
			subs, err := armList[listedSubscription](t, env, cred, "/subscriptions")
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, s := range subs {
				got = append(got, s.SubscriptionID)
				if s.ID != "/subscriptions/"+s.SubscriptionID || s.TenantID != tc.tenant || s.State != "Enabled" || s.DisplayName == "" ||
					s.AuthorizationSource != "RoleBased" || s.ManagedByTenants == nil || s.SubscriptionPolicies == nil {
					t.Errorf("subscription = %+v", s)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.subs) {
				t.Errorf("subscriptions = %v, want %v", got, tc.subs)
			}

			tenants, err := armList[listedTenant](t, env, cred, "/tenants")
			if err != nil {
				t.Fatal(err)
			}
			if len(tenants) != 1 || tenants[0].ID != "/tenants/"+tc.tenant || tenants[0].TenantID != tc.tenant ||
				tenants[0].TenantCategory != "Home" || tenants[0].DisplayName == "" || tenants[0].DefaultDomain == "" ||
				len(tenants[0].Domains) == 0 {
				t.Errorf("tenants = %+v", tenants)
			}
		})
	}
}

func TestARMListSubscriptionsRefusals(t *testing.T) {
	env := cloudtest.StartYAML(t, listWorld)
	cred := appCred(t, env, listTenantA, "owner")
	vaultTok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, auth, method string
		status                   int
		code                     string
	}{
		{"subscriptions: Key Vault token", "/subscriptions", "Bearer " + vaultTok.Token, http.MethodGet, 401, "InvalidAuthenticationTokenAudience"},
		{"tenants: Key Vault token", "/tenants", "Bearer " + vaultTok.Token, http.MethodGet, 401, "InvalidAuthenticationTokenAudience"},
		{"subscriptions: no token", "/subscriptions", "", http.MethodGet, 401, "AuthenticationFailed"},
		{"tenants: garbage token", "/tenants", "Bearer not-a-jwt", http.MethodGet, 401, "InvalidAuthenticationToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, strings.TrimSuffix(env.ARMEndpoint, "/")+tc.path+"?api-version=2022-12-01", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := env.HTTPClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			respErr(t, runtime.NewResponseError(resp), tc.status, tc.code)
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate challenge")
			}
		})
	}
	// Without api-version, as everywhere else in ARM.
	_, err = armListNoVersion(env, cred)
	respErr(t, err, http.StatusBadRequest, "MissingApiVersionParameter")
}

func armListNoVersion(env *cloudtest.Env, cred azcore.TokenCredential) (*http.Response, error) {
	client, err := arm.NewClient("podid.test", "v0.0.1", cred, armOptions(env))
	if err != nil {
		return nil, err
	}
	req, err := runtime.NewRequest(context.Background(), http.MethodGet, runtime.JoinPaths(client.Endpoint(), "/subscriptions"))
	if err != nil {
		return nil, err
	}
	resp, err := client.Pipeline().Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return nil, runtime.NewResponseError(resp)
	}
	return resp, nil
}

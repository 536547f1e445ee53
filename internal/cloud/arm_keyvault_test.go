package cloud_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

func vaultsClient(t *testing.T, env *cloudtest.Env, cred azcore.TokenCredential) *armkeyvault.VaultsClient {
	t.Helper()
	c, err := armkeyvault.NewVaultsClient(nodeSub, cred, armOptions(env))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func listVaultNames(t *testing.T, c *armkeyvault.VaultsClient, group string) []string {
	t.Helper()
	var names []string
	if group == "" {
		pager := c.NewListBySubscriptionPager(nil)
		for pager.More() {
			page, err := pager.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Value {
				names = append(names, *v.Name)
			}
		}
		return names
	}
	pager := c.NewListByResourceGroupPager(group, nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Value {
			names = append(names, *v.Name)
		}
	}
	return names
}

// The subscription's Owner reads both vaults through armkeyvault as Azure
// shows them: the access-policy vault with its policy for app-identity,
// the RBAC vault with none, each with the URI its secrets are served at.
func TestARMKeyVaultReadsAsTheSDKSeesThem(t *testing.T) {
	env := startWorld(t)
	ctx := context.Background()
	deployer, _ := env.Cloud.Application("deployer")
	c := vaultsClient(t, env, secretCred(t, env, deployer.AppID, "good-secret"))
	app, _ := env.Cloud.IdentityByName("app-identity")
	urls := env.Cloud.VaultURLs()

	got, err := c.Get(ctx, sharedRG, "kv-policy", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Properties
	if *got.Type != "Microsoft.KeyVault/vaults" || *got.Location != "westus2" || *p.TenantID != tenantID ||
		*p.EnableRbacAuthorization || *p.VaultURI != urls["kv-policy"] || *p.SKU.Name != armkeyvault.SKUNameStandard {
		t.Fatalf("vault = %+v, properties %+v", got.Vault, p)
	}
	if len(p.AccessPolicies) != 1 || *p.AccessPolicies[0].ObjectID != app.PrincipalID || *p.AccessPolicies[0].TenantID != tenantID ||
		len(p.AccessPolicies[0].Permissions.Secrets) != 1 || *p.AccessPolicies[0].Permissions.Secrets[0] != armkeyvault.SecretPermissionsGet {
		t.Fatalf("access policies = %+v", p.AccessPolicies)
	}
	rbac, err := c.Get(ctx, sharedRG, "kv-rbac", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !*rbac.Properties.EnableRbacAuthorization || len(rbac.Properties.AccessPolicies) != 0 {
		t.Fatalf("RBAC vault properties = %+v", rbac.Properties)
	}

	for group, want := range map[string]int{"": 2, sharedRG: 2, nodeRG: 0} {
		if names := listVaultNames(t, c, group); len(names) != want {
			t.Errorf("list vaults in %q: got %v, want %d", group, names, want)
		}
	}
}

// A Reader on one vault reads that vault and, listing the subscription,
// sees only it; the other vault stays refused.
func TestARMKeyVaultReaderOnOneVault(t *testing.T) {
	env := startWorld(t)
	ctx := context.Background()
	cluster, _ := env.Cloud.IdentityByName("cluster")
	vaultID := "/subscriptions/" + nodeSub + "/resourceGroups/" + sharedRG + "/providers/Microsoft.KeyVault/vaults/kv-policy"
	if _, err := env.Cloud.GrantRole(cluster.PrincipalID, "Reader", vaultID); err != nil {
		t.Fatal(err)
	}
	c := vaultsClient(t, env, micCredential(t, env))
	if _, err := c.Get(ctx, sharedRG, "kv-policy", nil); err != nil {
		t.Fatal(err)
	}
	if names := listVaultNames(t, c, ""); len(names) != 1 || names[0] != "kv-policy" {
		t.Errorf("the subscription's listing shows %v, want only kv-policy", names)
	}
	_, err := c.Get(ctx, sharedRG, "kv-rbac", nil)
	respErr(t, err, http.StatusForbidden, "AuthorizationFailed")
}

// Each refusal of Key Vault's management plane, with Azure's status and code.
func TestARMKeyVaultRefusals(t *testing.T) {
	env := startWorld(t)
	ctx := context.Background()
	deployer, _ := env.Cloud.Application("deployer")
	owner := vaultsClient(t, env, secretCred(t, env, deployer.AppID, "good-secret"))
	nobody := vaultsClient(t, env, micCredential(t, env))
	cases := map[string]struct {
		call   func() error
		status int
		code   string
	}{
		"a caller without a role may not read a vault": {
			call: func() error { _, err := nobody.Get(ctx, sharedRG, "kv-policy", nil); return err }, status: http.StatusForbidden, code: "AuthorizationFailed"},
		"a caller without a role may not read a vault that does not exist either": {
			call: func() error { _, err := nobody.Get(ctx, sharedRG, "kv-missing", nil); return err }, status: http.StatusForbidden, code: "AuthorizationFailed"},
		"a caller without a role anywhere in the subscription may not list its vaults": {
			call: func() error { _, err := nobody.NewListBySubscriptionPager(nil).NextPage(ctx); return err }, status: http.StatusForbidden, code: "AuthorizationFailed"},
		"a caller without a role may not list a group's vaults": {
			call: func() error { _, err := nobody.NewListByResourceGroupPager(sharedRG, nil).NextPage(ctx); return err }, status: http.StatusForbidden, code: "AuthorizationFailed"},
		"a vault that does not exist is not found": {
			call: func() error { _, err := owner.Get(ctx, sharedRG, "kv-missing", nil); return err }, status: http.StatusNotFound, code: "ResourceNotFound"},
		"a vault named under another resource group is not found there": {
			call: func() error { _, err := owner.Get(ctx, nodeRG, "kv-policy", nil); return err }, status: http.StatusNotFound, code: "ResourceNotFound"},
		"the vaults of a resource group that does not exist are not listed": {
			call: func() error { _, err := owner.NewListByResourceGroupPager("rg-missing", nil).NextPage(ctx); return err }, status: http.StatusNotFound, code: "ResourceGroupNotFound"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			respErr(t, tc.call(), tc.status, tc.code)
		})
	}
}

// An api-version Microsoft.KeyVault does not serve is refused before
// anything is read, as Resource Manager refuses it.
func TestARMKeyVaultRefusesUnknownAPIVersion(t *testing.T) {
	env := startWorld(t)
	deployer, _ := env.Cloud.Application("deployer")
	tok, err := secretCred(t, env, deployer.AppID, "good-secret").GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"one vault":                  "/resourceGroups/" + sharedRG + "/providers/Microsoft.KeyVault/vaults/kv-policy",
		"the subscription's listing": "/providers/Microsoft.KeyVault/vaults",
	} {
		req, _ := http.NewRequest(http.MethodGet, env.Cloud.URL()+"/subscriptions/"+nodeSub+path+"?api-version=2099-01-01", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := env.Cloud.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || body.Error.Code != "NoRegisteredProviderFound" {
			t.Errorf("%s: %d %q, want 400 NoRegisteredProviderFound", name, resp.StatusCode, body.Error.Code)
		}
	}
}

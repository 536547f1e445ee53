package cloud_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/podid/podid/internal/cloud/authz"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

func secretsClient(t *testing.T, env *cloudtest.Env, vault string, cred azcore.TokenCredential) *azsecrets.Client {
	t.Helper()
	url := env.Cloud.VaultURLs()[vault]
	c, err := azsecrets.NewClient(url, cred, &azsecrets.ClientOptions{ClientOptions: env.ClientOptions(), DisableChallengeResourceVerification: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// identityCred assigns the named identity to the jumpbox VM and returns a
// ManagedIdentityCredential reaching it through the VM's IMDS, plus its object ID.
func identityCred(t *testing.T, env *cloudtest.Env, name string) (azcore.TokenCredential, string) {
	t.Helper()
	ident, _ := env.Cloud.IdentityByName(name)
	vm, _ := env.Cloud.Machine("jumpbox")
	if _, err := env.Cloud.SetMachineIdentities(vm.ID, append(vm.UserAssigned, ident.ID)); err != nil {
		t.Fatal(err)
	}
	opts := env.ClientOptions()
	opts.Transport = env.IMDSClient(t, "jumpbox")
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ResourceID(ident.ID)})
	if err != nil {
		t.Fatal(err)
	}
	return cred, ident.PrincipalID
}

func TestKeyVaultRBAC(t *testing.T) {
	env := startWorld(t)
	ctx := context.Background()
	cred, oid := identityCred(t, env, "app-identity")
	kv := secretsClient(t, env, "kv-rbac", cred)

	_, err := kv.GetSecret(ctx, "db-password", "", nil)
	re := respErr(t, err, http.StatusForbidden, "Forbidden")
	for _, want := range []string{"Caller is not authorized to perform action on resource.", "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'", "ForbiddenByRbac", "oid=" + oid} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("403 body lacks %q:\n%v", want, re)
		}
	}

	vaultID := "/subscriptions/" + nodeSub + "/resourceGroups/" + sharedRG + "/providers/Microsoft.KeyVault/vaults/kv-rbac"
	if _, err := env.Cloud.GrantRole(oid, "Key Vault Secrets User", vaultID); err != nil {
		t.Fatal(err)
	}
	got, err := kv.GetSecret(ctx, "db-password", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Value != "s3cr3t" || got.ID.Name() != "db-password" || len(got.ID.Version()) != 32 {
		t.Fatalf("secret = %s %s %s", *got.Value, got.ID.Name(), got.ID.Version())
	}
	if a := got.Attributes; a == nil || a.Created == nil || a.Created.Year() < 2000 || a.Updated == nil || a.Updated.Year() < 2000 {
		t.Fatalf("a seeded secret's dates = %+v; want the time the vault got it", got.Attributes)
	}
	_, err = kv.GetSecret(ctx, "nope", "", nil)
	respErr(t, err, http.StatusNotFound, "SecretNotFound")

	// Secrets User may not write; Secrets Officer may, and versions accumulate.
	_, err = kv.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("v2")}, nil)
	respErr(t, err, http.StatusForbidden, "Forbidden")
	if _, err := env.Cloud.GrantRole(oid, authz.KeyVaultSecretsOfficerID, vaultID); err != nil {
		t.Fatal(err)
	}
	set, err := kv.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("v2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := kv.GetSecret(ctx, "db-password", got.ID.Version(), nil)
	if err != nil || *old.Value != "s3cr3t" {
		t.Fatalf("old version: %v %v", old.Value, err)
	}
	latest, err := kv.GetSecret(ctx, "db-password", "", nil)
	if err != nil || *latest.Value != "v2" || latest.ID.Version() != set.ID.Version() {
		t.Fatalf("latest: %v %v", latest.Value, err)
	}
}

func TestKeyVaultAccessPolicy(t *testing.T) {
	env := startWorld(t)
	ctx := context.Background()
	allowed, _ := identityCred(t, env, "app-identity")
	other, oid := identityCred(t, env, "other-identity")
	got, err := secretsClient(t, env, "kv-policy", allowed).GetSecret(ctx, "grafana-admin", "", nil)
	if err != nil || *got.Value != "admin" {
		t.Fatalf("allowed read: %v", err)
	}
	_, err = secretsClient(t, env, "kv-policy", other).GetSecret(ctx, "grafana-admin", "", nil)
	respErr(t, err, http.StatusForbidden, "Forbidden")
	if !strings.Contains(err.Error(), "oid="+oid) || !strings.Contains(err.Error(), "does not have secrets get permission on key vault 'kv-policy;location=westus2'") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("access-policy 403: %v", err)
	}
}

func TestKeyVaultChallenge(t *testing.T) {
	env := startWorld(t)
	resp, err := env.HTTPClient.Get(env.Cloud.VaultURLs()["kv-rbac"] + "secrets/db-password/?api-version=7.4")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	want := `Bearer authorization="` + env.URL + `/` + tenantID + `", resource="https://vault.azure.net"`
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("challenge: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

package cloud_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

const (
	rbacTenant   = "5b4c3d2e-1f0a-4b9c-8d7e-6f5a4b3c2d1e"
	rbacSub      = "6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f"
	carolOID     = "ca401000-0000-4000-8000-000000000001"
	erinOID      = "e4140000-0000-4000-8000-000000000002"
	platformOID  = "91a7f000-0000-4000-8000-0000000000b1"
	devsOID      = "de500000-0000-4000-8000-0000000000b2"
	rbacCluster  = "/subscriptions/" + rbacSub + "/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-poc"
	rbacDeployer = "deployer"
)

// rbacWorld has carol in devs, itself a member of platform; erin in no
// group; a cluster and an RBAC vault. The platform group reads the
// cluster and devs read the vault's secrets; the deployer app owns the
// subscription.
const rbacWorld = `
tenants:
  - id: ` + rbacTenant + `
    name: contoso
    subscriptions:
      - id: ` + rbacSub + `
        name: aks
        resourceGroups:
          - name: rg-aks
            location: westeurope
            managedClusters:
              - name: aks-poc
            vaults:
              - name: kv-team
                secrets:
                  - name: db-password
                    value: s3cr3t
    applications:
      - name: ` + rbacDeployer + `
        secrets:
          - value: deployer-secret
    users:
      - userPrincipalName: carol@contoso.com
        password: carol-pw
        objectId: ` + carolOID + `
      - userPrincipalName: erin@contoso.com
        password: erin-pw
        objectId: ` + erinOID + `
    groups:
      - name: devs
        objectId: ` + devsOID + `
        members: [carol@contoso.com]
      - name: platform
        objectId: ` + platformOID + `
        members: [devs]
    roleAssignments:
      - principal: platform
        role: Reader
        scope: managedCluster/aks-poc
      - principal: devs
        role: Key Vault Secrets User
        scope: vault/kv-team
      - principal: ` + rbacDeployer + `
        role: Owner
        scope: subscription/aks
`

// personToken signs upn in with a password, as kubelogin -l ropc or az
// login --username do, and returns an access token for scope.
func personToken(t *testing.T, env *cloudtest.Env, upn, password, scope string) string {
	t.Helper()
	//nolint:staticcheck // ROPC is deprecated but is what kubelogin -l ropc does.
	cred, err := azidentity.NewUsernamePasswordCredential(rbacTenant, cloud.AKSClientAppID, upn, password,
		&azidentity.UsernamePasswordCredentialOptions{ClientOptions: env.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, cred, scope)
	if err != nil {
		t.Fatalf("sign in %s: %v", upn, err)
	}
	return tok
}

// call sends one request with token and decodes a JSON answer.
func call(t *testing.T, env *cloudtest.Env, token, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := env.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

const armScope = "https://management.azure.com/.default"

func TestGroupRolesApplyToTransitiveMembers(t *testing.T) {
	env := cloudtest.StartYAML(t, rbacWorld)
	carol := personToken(t, env, "carol@contoso.com", "carol-pw", armScope)
	erin := personToken(t, env, "erin@contoso.com", "erin-pw", armScope)
	url := env.URL + rbacCluster + "?api-version=2024-09-01"

	status, out := call(t, env, carol, http.MethodGet, url, nil)
	if status != http.StatusOK || out["id"] != rbacCluster || out["type"] != cloud.ManagedClusterType {
		t.Fatalf("carol (platform via devs) GET cluster = %d %v", status, out)
	}
	if aad, _ := out["properties"].(map[string]any)["aadProfile"].(map[string]any); aad["enableAzureRBAC"] != true {
		t.Errorf("aadProfile = %v, want Azure RBAC enabled", aad)
	}
	status, out = call(t, env, erin, http.MethodGet, url, nil)
	if status != http.StatusForbidden || errCode(out) != "AuthorizationFailed" {
		t.Fatalf("erin (no group) GET cluster = %d %v, want 403 AuthorizationFailed", status, out)
	}

	// The assignment lists as made to the group.
	status, out = call(t, env, carol, http.MethodGet, env.URL+rbacCluster+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", nil)
	if status != http.StatusOK {
		t.Fatalf("list assignments = %d %v", status, out)
	}
	found := false
	for _, v := range out["value"].([]any) {
		p := v.(map[string]any)["properties"].(map[string]any)
		if p["principalId"] == platformOID {
			found = p["principalType"] == "Group"
		}
	}
	if !found {
		t.Errorf("no Group assignment to platform in %v", out)
	}

	// A grant to erin herself reads; a cluster that does not exist is 404.
	if _, err := env.Cloud.GrantRole(erinOID, "Reader", "/subscriptions/"+rbacSub+"/resourceGroups/rg-aks"); err != nil {
		t.Fatal(err)
	}
	if status, out = call(t, env, erin, http.MethodGet, url, nil); status != http.StatusOK {
		t.Fatalf("erin after grant = %d %v", status, out)
	}
	status, out = call(t, env, erin, http.MethodGet, strings.Replace(url, "aks-poc", "aks-gone", 1), nil)
	if status != http.StatusNotFound || errCode(out) != "ResourceNotFound" {
		t.Errorf("missing cluster = %d %v, want 404 ResourceNotFound", status, out)
	}
	status, out = call(t, env, erin, http.MethodGet, env.URL+"/subscriptions/"+rbacSub+"/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters?api-version=2024-09-01", nil)
	if v, _ := out["value"].([]any); status != http.StatusOK || len(v) != 1 {
		t.Errorf("list clusters = %d %v, want the one cluster", status, out)
	}
}

func TestGroupRolesApplyToKeyVaultData(t *testing.T) {
	env := cloudtest.StartYAML(t, rbacWorld)
	url := env.Cloud.VaultURLs()["kv-team"] + "secrets/db-password/?api-version=7.4"
	status, out := call(t, env, personToken(t, env, "carol@contoso.com", "carol-pw", "https://vault.azure.net/.default"), http.MethodGet, url, nil)
	if status != http.StatusOK || out["value"] != "s3cr3t" {
		t.Fatalf("carol (devs) reads secret = %d %v", status, out)
	}
	status, out = call(t, env, personToken(t, env, "erin@contoso.com", "erin-pw", "https://vault.azure.net/.default"), http.MethodGet, url, nil)
	if status != http.StatusForbidden || errCode(out) != "Forbidden" {
		t.Fatalf("erin reads secret = %d %v, want 403 Forbidden", status, out)
	}
}

func TestGrantRoleRecordsPeopleAndGroupsByKind(t *testing.T) {
	env := cloudtest.StartYAML(t, rbacWorld)
	for oid, want := range map[string]string{carolOID: "User", devsOID: "Group"} {
		a, err := env.Cloud.GrantRole(oid, "Azure Kubernetes Service RBAC Reader", rbacCluster+"/namespaces/dev")
		if err != nil || a.PrincipalType != want {
			t.Errorf("grant to %s: %+v, %v; want principalType %s", oid, a, err, want)
		}
	}
	if _, err := env.Cloud.GrantRole("0000dead-0000-4000-8000-000000000000", "Reader", rbacCluster); err == nil || !strings.Contains(err.Error(), "PrincipalNotFound") {
		t.Errorf("grant to an unknown object = %v, want PrincipalNotFound", err)
	}
}

func TestRoleAssignmentConditionIsKeptAndEnforced(t *testing.T) {
	env := cloudtest.StartYAML(t, rbacWorld)
	app, _ := env.Cloud.Application(rbacDeployer)
	cred, err := azidentity.NewClientSecretCredential(rbacTenant, app.AppID, "deployer-secret",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: env.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := getToken(t, cred, armScope)
	if err != nil {
		t.Fatal(err)
	}
	erin := personToken(t, env, "erin@contoso.com", "erin-pw", armScope)
	sub := "/subscriptions/" + rbacSub
	name := "0d3c0000-0000-4000-8000-000000000001"
	raURL := env.URL + sub + "/providers/Microsoft.Authorization/roleAssignments/" + name + "?api-version=2022-04-01"
	put := func(cond, version string) (int, map[string]any) {
		props := map[string]any{"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": erinOID}
		if cond != "" {
			props["condition"] = cond
		}
		if version != "" {
			props["conditionVersion"] = version
		}
		return call(t, env, owner, http.MethodPut, raURL, map[string]any{"properties": props})
	}
	subURL := env.URL + sub + "?api-version=2022-12-01"

	// Reader on the subscription, but only for reading storage accounts:
	// reading the subscription itself stays refused.
	const onlyStorage = "ActionMatches{'Microsoft.Storage/storageAccounts/read'}"
	status, out := put(onlyStorage, "")
	if status != http.StatusCreated {
		t.Fatalf("PUT with condition = %d %v", status, out)
	}
	if p := out["properties"].(map[string]any); p["condition"] != onlyStorage || p["conditionVersion"] != "2.0" || p["principalType"] != "User" {
		t.Errorf("PUT answer properties = %v, want the condition, version 2.0 and principalType User", p)
	}
	status, out = call(t, env, owner, http.MethodGet, raURL, nil)
	if p, _ := out["properties"].(map[string]any); status != http.StatusOK || p["condition"] != onlyStorage || p["conditionVersion"] != "2.0" {
		t.Errorf("GET = %d %v, want the condition back", status, out)
	}
	if status, out = call(t, env, erin, http.MethodGet, subURL, nil); status != http.StatusForbidden || errCode(out) != "AuthorizationFailed" {
		t.Fatalf("erin reads subscription under a condition that does not hold = %d %v, want 403", status, out)
	}

	// Replacing the condition with one that holds grants the read.
	if status, out = put("ActionMatches{'Microsoft.Resources/subscriptions/read'}", "2.0"); status != http.StatusCreated {
		t.Fatalf("PUT new condition = %d %v", status, out)
	}
	if status, out = call(t, env, erin, http.MethodGet, subURL, nil); status != http.StatusOK {
		t.Fatalf("erin reads subscription under a condition that holds = %d %v", status, out)
	}

	refusals := map[string]struct{ cond, version string }{
		"condition version 1.0":           {onlyStorage, "1.0"},
		"a version without a condition":   {"", "2.0"},
		"a condition that does not parse": {"ActionMatches{'x'} AND (", "2.0"},
	}
	for label, r := range refusals {
		status, out := put(r.cond, r.version)
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if status != http.StatusBadRequest || errCode(out) != "InvalidCondition" || msg != "The given role assignment condition is invalid." {
			t.Errorf("%s: PUT = %d %v, want 400 InvalidCondition", label, status, out)
		}
	}
}

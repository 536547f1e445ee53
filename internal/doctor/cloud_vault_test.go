package doctor

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

const (
	vaultTenant    = "t-1"
	vaultPrincipal = "p-app"
	vaultSub       = "s"
	vaultIdentity  = "/subscriptions/" + vaultSub + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id"
)

func policyVault(name string, policies ...VaultAccessPolicy) Vault {
	return Vault{Name: name, ResourceGroup: "rg", TenantID: vaultTenant, AccessPolicies: policies,
		ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/" + name}
}

func rbacVault(name string) Vault {
	v := policyVault(name)
	v.RBAC = true
	return v
}

func grant(objectID string, secrets ...string) VaultAccessPolicy {
	return VaultAccessPolicy{TenantID: vaultTenant, ObjectID: objectID, Secrets: secrets}
}

func TestDecideVaultAccess(t *testing.T) {
	cases := map[string]struct {
		vault         Vault
		canRead, rbac bool
		detail        string
	}{
		"a policy granting get and list for the principal lets it read": {
			vault: policyVault("kv", grant(vaultPrincipal, "get", "list")), canRead: true, detail: "grants secrets get,list"},
		"all covers get, whatever its case": {
			vault: policyVault("kv", grant(strings.ToUpper(vaultPrincipal), "All")), canRead: true},
		"a policy for another principal does not": {
			vault: policyVault("kv", grant("p-other", "get")), detail: "no access policy for the identity among its 1"},
		"a policy granting list without get is named as such": {
			vault: policyVault("kv", grant(vaultPrincipal, "list")), detail: "grants secrets list, without get"},
		"a policy of another tenant grants nothing in this vault": {
			vault: policyVault("kv", VaultAccessPolicy{TenantID: "t-other", ObjectID: vaultPrincipal, Secrets: []string{"get"}}), detail: "no access policy for the identity"},
		"an RBAC vault ignores its access policies": {
			vault: func() Vault {
				v := rbacVault("kv")
				v.AccessPolicies = []VaultAccessPolicy{grant(vaultPrincipal, "get")}
				return v
			}(), rbac: true, detail: "uses Azure RBAC"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := decideVaultAccess(tc.vault, vaultPrincipal)
			if got.canRead != tc.canRead || got.rbac != tc.rbac || !strings.Contains(got.detail, tc.detail) {
				t.Errorf("got %+v; want canRead %v rbac %v detail containing %q", got, tc.canRead, tc.rbac, tc.detail)
			}
		})
	}
}

func vaultFacts(named string, vaults ...Vault) *Facts {
	return &Facts{
		Identities: []podidv1.AzureIdentity{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "app"},
			// Node token mode: the vault check looks at every user-assigned identity.
			Spec: podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ResourceID: vaultIdentity, ClientID: "c"},
		}},
		Settings: Settings{TokenMode: podidv1.TokenModeNode, Vault: named},
		Cloud: &CloudFacts{
			Principals: map[string]string{strings.ToLower(vaultIdentity): vaultPrincipal}, PrincipalErrors: map[string]string{},
			Vaults: map[string][]Vault{vaultSub: vaults}, VaultErrors: map[string]string{},
		},
	}
}

func TestVaultAccessCheck(t *testing.T) {
	withoutCloud := func(named string) *Facts { f := vaultFacts(named); f.Cloud = nil; return f }
	cases := map[string]struct {
		facts   *Facts
		status  Status
		message string
		fix     string
	}{
		"the named vault without a policy for the identity fails with step 4's set-policy": {
			facts:  vaultFacts("kv-westus2-aks", policyVault("kv-westus2-aks"), policyVault("kv-other", grant(vaultPrincipal, "get"))),
			status: Fail, message: "may not get the secrets of vault kv-westus2-aks; Key Vault answers its reads with 403 Forbidden (AccessDenied)",
			fix: "az keyvault set-policy --name kv-westus2-aks --object-id p-app --secret-permissions get list",
		},
		"the named vault whose policy grants get passes": {
			facts:  vaultFacts("kv-westus2-aks", policyVault("kv-westus2-aks", grant(vaultPrincipal, "get", "list"))),
			status: Pass, message: "may get the secrets of vault kv-westus2-aks",
		},
		"a named vault the doctor cannot see is skipped with the show command": {
			facts:  vaultFacts("kv-elsewhere", policyVault("kv-a")),
			status: Skip, message: "is not among the 1 vaults", fix: "az keyvault show --name kv-elsewhere --query properties.accessPolicies",
		},
		"a named RBAC vault says RBAC decides and lists the identity's roles on it": {
			facts:  vaultFacts("kv-rbac", rbacVault("kv-rbac")),
			status: Skip, message: "uses Azure RBAC", fix: "az role assignment list --assignee p-app --scope /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-rbac",
		},
		"without --vault an identity that may read no vault warns, naming them, with the first one's fix": {
			facts:  vaultFacts("", policyVault("kv-a"), rbacVault("kv-r"), policyVault("kv-b", grant("p-other", "get"))),
			status: Warn, message: "none of the access-policy vaults in subscription s (kv-a, kv-b)",
			fix: "az keyvault set-policy --name kv-a --object-id p-app --secret-permissions get list",
		},
		"without --vault an identity that may read one vault passes, naming it": {
			facts:  vaultFacts("", policyVault("kv-a"), policyVault("kv-b", grant(vaultPrincipal, "get"))),
			status: Pass, message: "may get the secrets of vault kv-b",
		},
		"without --vault only RBAC vaults cannot be decided": {
			facts:  vaultFacts("", rbacVault("kv-r")),
			status: Skip, message: "use Azure RBAC", fix: "az role assignment list --assignee p-app --all",
		},
		"without cloud access the named vault's policies are shown by az": {
			facts:  withoutCloud("kv-westus2-aks"),
			status: Skip, message: "no cloud access", fix: "az keyvault show --name kv-westus2-aks --query properties.accessPolicies",
		},
		"without cloud access or --vault the vaults are listed by az": {
			facts:  withoutCloud(""),
			status: Skip, message: "no cloud access", fix: "az keyvault list --subscription s",
		},
		"an identity whose principal could not be read is skipped with the error": {
			facts: func() *Facts {
				f := vaultFacts("kv-a", policyVault("kv-a"))
				f.Cloud.Principals = map[string]string{}
				f.Cloud.PrincipalErrors[strings.ToLower(vaultIdentity)] = "get identity app-id: 403 AuthorizationFailed"
				return f
			}(),
			status: Skip, message: "did not give the identity's principal ID", fix: "az identity show --ids " + vaultIdentity + " --query principalId",
		},
		"a subscription whose vaults could not be listed is skipped": {
			facts: func() *Facts {
				f := vaultFacts("")
				f.Cloud.Vaults = map[string][]Vault{}
				f.Cloud.VaultErrors[vaultSub] = "list key vaults of subscription s: 403 AuthorizationFailed"
				return f
			}(),
			status: Skip, message: "did not list the key vaults of subscription s", fix: "az keyvault list --subscription s",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkVaultAccess(tc.facts)
			if len(got) != 1 {
				t.Fatalf("want one finding, got %+v", got)
			}
			f := got[0]
			if f.Status != tc.status || f.Object != "AzureIdentity apps/app" || !strings.Contains(f.Message, tc.message) || !strings.Contains(f.Fix, tc.fix) {
				t.Errorf("got %s %s %q fix %q; want %s containing %q, fix containing %q", f.Status, f.Object, f.Message, f.Fix, tc.status, tc.message, tc.fix)
			}
		})
	}
}

func TestVaultAccessCheckIgnores(t *testing.T) {
	cases := map[string]*Facts{
		"an identity whose subscription has no vault, with none named": vaultFacts(""),
		"a service principal identity, whose principal the doctor does not read": func() *Facts {
			f := vaultFacts("kv-a", policyVault("kv-a"))
			f.Identities[0].Spec = podidv1.AzureIdentitySpec{Type: podidv1.ServicePrincipal, TenantID: vaultTenant, ClientID: "c"}
			return f
		}(),
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if got := checkVaultAccess(f); len(got) != 0 {
				t.Errorf("want no finding, got %+v", got)
			}
		})
	}
}

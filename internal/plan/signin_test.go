package plan

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const adminsID = "ad1a5e0c-2f4b-4d6a-8e1c-9b7f3a5d0c03"

func TestSignInDecisions(t *testing.T) {
	cases := map[string]struct {
		in    SignInInput
		check func(t *testing.T, p *Plan)
	}{
		"by default people sign in with Azure AD and operators keep the admin kubeconfig": {
			check: func(t *testing.T, p *Plan) {
				if !p.SignIn.LocalAccounts || p.Kubeconfig != "/home/user/.podid/kubeconfig" || p.SignIn.AdminBinding() != nil || p.SignIn.AzureRBAC != nil {
					t.Fatalf("local %v kubeconfig %s binding %v rbac %v", p.SignIn.LocalAccounts, p.Kubeconfig, p.SignIn.AdminBinding(), p.SignIn.AzureRBAC)
				}
				if got := strings.Join(p.SignIn.APIServerArgs(), " "); got != "--authentication-config=/home/user/.podid/run/authentication-config.yaml" {
					t.Fatalf("apiserver args %q", got)
				}
				if p.SignIn.Cluster != (Cluster{Name: "aks-poc", ResourceGroup: "rg-aks-poc-container", ID: "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/rg-aks-poc-container/providers/Microsoft.ContainerService/managedClusters/aks-poc"}) {
					t.Fatalf("cluster %+v, want the world's aks-poc", p.SignIn.Cluster)
				}
			},
		},
		"admin groups are bound to cluster-admin as AKS binds them": {
			in: SignInInput{AdminGroupObjectIDs: []string{strings.ToUpper(adminsID), "0d0d0d0d-0000-4000-8000-000000000000"}},
			check: func(t *testing.T, p *Plan) {
				b := p.SignIn.AdminBinding()
				if b.Name != "aks-cluster-admin-binding-aad" || b.RoleRef.Name != "cluster-admin" || len(b.Subjects) != 2 || b.Subjects[0].Kind != "Group" || b.Subjects[0].Name != adminsID {
					t.Fatalf("binding %+v", b)
				}
				if got := p.SignIn.adminGroupNames(); got != "group aks-admins ("+adminsID+"), group 0d0d0d0d-0000-4000-8000-000000000000 (not in the world)" {
					t.Fatalf("names %q", got)
				}
			},
		},
		"disabled local accounts leave the admin kubeconfig in the run folder only": {
			in: SignInInput{DisableLocalAccounts: true},
			check: func(t *testing.T, p *Plan) {
				if p.SignIn.LocalAccounts || p.Kubeconfig != "/home/user/.podid/run/kubeconfig" {
					t.Fatalf("local %v kubeconfig %s", p.SignIn.LocalAccounts, p.Kubeconfig)
				}
			},
		},
		"azure rbac asks the webhook after Node and RBAC with short caches": {
			in: SignInInput{EnableAzureRBAC: true},
			check: func(t *testing.T, p *Plan) {
				got := strings.Join(p.SignIn.APIServerArgs(), " ")
				for _, want := range []string{"--authorization-mode=Webhook", "--authorization-webhook-config-file=/home/user/.podid/run/azure-rbac-webhook.kubeconfig",
					"--authorization-webhook-version=v1", "--authorization-webhook-cache-authorized-ttl=5s", "--authorization-webhook-cache-unauthorized-ttl=0s"} {
					if !strings.Contains(got, want) {
						t.Fatalf("apiserver args %q lack %q", got, want)
					}
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := input(t)
			in.SignIn = tc.in
			p, err := MakePlan(in)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

func TestSignInRefusals(t *testing.T) {
	cases := map[string]struct {
		change func(*Input)
		want   string
	}{
		"a group name where AKS wants an object ID": {func(in *Input) { in.SignIn.AdminGroupObjectIDs = []string{"aks-admins"} },
			`--aad-admin-group-object-ids "aks-admins" is not a group object ID; the world's groups are aks-admins (` + adminsID + `)`},
		"azure rbac in a world without a managed cluster": {func(in *Input) {
			in.SignIn.EnableAzureRBAC = true
			in.World.ManagedClusters = nil
		}, "--enable-azure-rbac: the world declares no managed cluster"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := input(t)
			tc.change(&in)
			if _, err := MakePlan(in); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAuthenticationConfigurationTrustsTheCloudForTheServerApp(t *testing.T) {
	p, err := MakePlan(input(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.SignIn.AuthenticationConfiguration(p.SignIn.Issuer("https://127.0.0.1:8443"), []byte("-----BEGIN CERTIFICATE-----\n"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		JWT        []struct {
			Issuer struct {
				URL                  string   `json:"url"`
				Audiences            []string `json:"audiences"`
				CertificateAuthority string   `json:"certificateAuthority"`
			} `json:"issuer"`
			ClaimValidationRules []struct {
				Expression string `json:"expression"`
			} `json:"claimValidationRules"`
			ClaimMappings struct {
				Username struct{ Expression string } `json:"username"`
				Groups   struct {
					Claim      string `json:"claim"`
					Expression string `json:"expression"`
				} `json:"groups"`
			} `json:"claimMappings"`
		} `json:"jwt"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	j := cfg.JWT[0]
	if cfg.APIVersion != "apiserver.config.k8s.io/v1" || cfg.Kind != "AuthenticationConfiguration" || len(cfg.JWT) != 1 {
		t.Fatalf("%s %s with %d authenticators", cfg.APIVersion, cfg.Kind, len(cfg.JWT))
	}
	if j.Issuer.URL != "https://127.0.0.1:8443/2e319086-9a26-46a3-865f-615bed576786/v2.0" || j.Issuer.Audiences[0] != "6dae42f8-4368-4678-94ff-3960e28e3630" || j.Issuer.CertificateAuthority == "" {
		t.Fatalf("issuer %+v", j.Issuer)
	}
	if j.ClaimMappings.Username.Expression != "has(claims.upn) ? claims.upn : claims.oid" || j.ClaimMappings.Groups.Expression != "has(claims.groups) ? claims.groups : []" || j.ClaimMappings.Groups.Claim != "" {
		t.Fatalf("mappings %+v", j.ClaimMappings)
	}
	if j.ClaimValidationRules[0].Expression != `claims.tid == "2e319086-9a26-46a3-865f-615bed576786"` {
		t.Fatalf("rules %+v", j.ClaimValidationRules)
	}
}

// podid up's "next" tells az CLI users what they need: the proxy and CA
// in the environment, the registration, and the cluster to ask for; a
// plan without the proxy (nothing started) or without a managed cluster
// prints none of it.
func TestRenderNextAzureCLI(t *testing.T) {
	withCluster := Cluster{Name: "aks-poc", ResourceGroup: "rg-aks-poc-container", ID: "/subscriptions/s/resourceGroups/rg-aks-poc-container/providers/Microsoft.ContainerService/managedClusters/aks-poc"}
	cases := map[string]struct {
		signIn SignIn
		want   []string // lines present; nil means no az line at all
	}{
		"a running proxy and a managed cluster print the az steps": {
			signIn: SignIn{TenantID: "t1", Cluster: withCluster, AzureCLIProxy: "http://127.0.0.1:4000"},
			want: []string{
				"export REQUESTS_CA_BUNDLE=/run/ca.pem HTTPS_PROXY=http://127.0.0.1:4000 NO_PROXY=127.0.0.1,localhost",
				"az cloud register --name podid --profile latest --endpoint-resource-manager https://127.0.0.1:8443/ --endpoint-active-directory https://127.0.0.1:8443 ",
				"az login --use-device-code --tenant t1 && az aks get-credentials -g rg-aks-poc-container -n aks-poc",
			},
		},
		"no proxy, no az steps":           {signIn: SignIn{TenantID: "t1", Cluster: withCluster}},
		"no managed cluster, no az steps": {signIn: SignIn{TenantID: "t1", Cluster: Cluster{Name: "podid", ResourceGroup: "podid"}, AzureCLIProxy: "http://127.0.0.1:4000"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := tc.signIn
			r := &Record{StateDir: "/state", CloudURL: "https://127.0.0.1:8443", CloudCA: "/run/ca.pem", SignIn: &s}
			var b strings.Builder
			if err := RenderNext(&b, r, true); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil && strings.Contains(b.String(), "az login") {
				t.Fatalf("printed az steps without a proxy and a cluster:\n%s", b.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Fatalf("next lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

package cloud

import "testing"

func TestRouteAzureHost(t *testing.T) {
	cases := map[string]struct {
		host string
		want azureRoute
	}{
		"Azure AD's host is Azure AD":                  {"login.microsoftonline.com", azureRoute{service: serviceAAD}},
		"Resource Manager's host is ARM":               {"management.azure.com", azureRoute{service: serviceARM}},
		"a port is ignored":                            {"management.azure.com:443", azureRoute{service: serviceARM}},
		"case and a trailing dot are ignored":          {"Login.MicrosoftOnline.com.", azureRoute{service: serviceAAD}},
		"a vault host names its vault":                 {"kv-westus2-aks.vault.azure.net", azureRoute{service: serviceVault, name: "kv-westus2-aks"}},
		"a vault host with a port names its vault":     {"KV1.vault.azure.net:443", azureRoute{service: serviceVault, name: "kv1"}},
		"a registry host names its registry":           {"myacr.azurecr.io", azureRoute{service: serviceRegistry, name: "myacr"}},
		"the bare vault zone is no vault":              {"vault.azure.net", azureRoute{}},
		"an empty label is no vault":                   {".vault.azure.net", azureRoute{}},
		"two labels under the vault zone are no vault": {"a.b.vault.azure.net", azureRoute{}},
		"a look-alike suffix is unknown":               {"kv1.vault.azure.net.example.com", azureRoute{}},
		"a zone without its dot is unknown":            {"kv1vault.azure.net", azureRoute{}},
		"a subdomain of Azure AD's host is unknown":    {"x.login.microsoftonline.com", azureRoute{}},
		"an IP address is unknown":                     {"10.254.0.1:443", azureRoute{}},
		"an empty host is unknown":                     {"", azureRoute{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := routeAzureHost(tc.host); got != tc.want {
				t.Fatalf("routeAzureHost(%q) = %+v; want %+v", tc.host, got, tc.want)
			}
		})
	}
}

package v1

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAzureIdentitySpecProblems(t *testing.T) {
	const rid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"
	cases := map[string]struct {
		spec AzureIdentitySpec
		want []string // fields with a problem
	}{
		"a complete managed identity has none":   {spec: AzureIdentitySpec{ClientID: "c", ResourceID: rid}},
		"a managed identity without resource ID": {spec: AzureIdentitySpec{ClientID: "c"}, want: []string{"spec.resourceID"}},
		"a managed identity with nothing set":    {spec: AzureIdentitySpec{}, want: []string{"spec.clientID", "spec.resourceID"}},
		"a service principal without its secret": {spec: AzureIdentitySpec{Type: ServicePrincipal, ClientID: "c", TenantID: "t"}, want: []string{"spec.clientPassword.name"}},
		"a certificate principal without tenant": {spec: AzureIdentitySpec{Type: ServicePrincipalCertificate, ClientID: "c", ClientPassword: &corev1.SecretReference{Name: "s", Namespace: "n"}}, want: []string{"spec.tenantID"}},
		"a secret reference without namespace":   {spec: AzureIdentitySpec{Type: ServicePrincipal, ClientID: "c", TenantID: "t", ClientPassword: &corev1.SecretReference{Name: "s"}}, want: []string{"spec.clientPassword.namespace"}},
		"a complete service principal has none":  {spec: AzureIdentitySpec{Type: ServicePrincipal, ClientID: "c", TenantID: "t", ClientPassword: &corev1.SecretReference{Name: "s", Namespace: "n"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, p := range tc.spec.Problems() {
				got = append(got, p.Field)
				if p.Message == "" {
					t.Errorf("%s has no message", p.Field)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems in %v, want %v", got, tc.want)
			}
		})
	}
}

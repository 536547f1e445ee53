package v1

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAzureIdentityProblems(t *testing.T) {
	const rid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"
	cases := map[string]struct {
		spec        AzureIdentitySpec
		annotations map[string]string
		mode        string   // the cluster default; node unless set
		want        []string // fields with a problem
	}{
		"a complete managed identity has none":   {spec: AzureIdentitySpec{ClientID: "c", ResourceID: rid}},
		"a managed identity without resource ID": {spec: AzureIdentitySpec{ClientID: "c"}, want: []string{"spec.resourceID"}},
		"a managed identity with nothing set":    {spec: AzureIdentitySpec{}, want: []string{"spec.clientID", "spec.resourceID"}},
		"federated mode needs no resource ID":    {spec: AzureIdentitySpec{ClientID: "c"}, mode: TokenModeFederated},
		"federated by annotation needs none":     {spec: AzureIdentitySpec{ClientID: "c"}, annotations: map[string]string{TokenModeAnnotation: "federated"}},
		"node by annotation in a federated cluster": {spec: AzureIdentitySpec{ClientID: "c"}, mode: TokenModeFederated,
			annotations: map[string]string{TokenModeAnnotation: "node"}, want: []string{"spec.resourceID"}},
		"federated mode still needs a client ID": {spec: AzureIdentitySpec{}, mode: TokenModeFederated, want: []string{"spec.clientID"}},
		"a service principal without its secret": {spec: AzureIdentitySpec{Type: ServicePrincipal, ClientID: "c", TenantID: "t"}, want: []string{"spec.clientPassword.name"}},
		"a certificate principal without tenant": {spec: AzureIdentitySpec{Type: ServicePrincipalCertificate, ClientID: "c", ClientPassword: &corev1.SecretReference{Name: "s", Namespace: "n"}}, want: []string{"spec.tenantID"}},
		"a secret reference without namespace":   {spec: AzureIdentitySpec{Type: ServicePrincipal, ClientID: "c", TenantID: "t", ClientPassword: &corev1.SecretReference{Name: "s"}}, want: []string{"spec.clientPassword.namespace"}},
		"a complete service principal has none":  {spec: AzureIdentitySpec{Type: ServicePrincipal, ClientID: "c", TenantID: "t", ClientPassword: &corev1.SecretReference{Name: "s", Namespace: "n"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mode := tc.mode
			if mode == "" {
				mode = TokenModeNode
			}
			id := &AzureIdentity{Spec: tc.spec}
			id.Annotations = tc.annotations
			var got []string
			for _, p := range id.Problems(mode) {
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

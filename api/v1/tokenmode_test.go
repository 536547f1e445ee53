package v1

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResolveTokenMode(t *testing.T) {
	const fed, node = TokenModeFederated, TokenModeNode
	cases := map[string]struct {
		in   TokenModeInput
		want string
	}{
		"a managed identity without annotation follows a federated cluster":    {in: TokenModeInput{ClusterDefault: fed}, want: fed},
		"a managed identity without annotation follows a node cluster":         {in: TokenModeInput{ClusterDefault: node}, want: node},
		"a managed identity annotated node overrides a federated cluster":      {in: TokenModeInput{Annotation: "node", ClusterDefault: fed}, want: node},
		"a managed identity annotated federated overrides a node cluster":      {in: TokenModeInput{Annotation: "federated", ClusterDefault: node}, want: fed},
		"the annotation ignores case and spaces":                               {in: TokenModeInput{Annotation: " Federated ", ClusterDefault: node}, want: fed},
		"an invalid annotation is the cluster default in a federated cluster":  {in: TokenModeInput{Annotation: "imds", ClusterDefault: fed}, want: fed},
		"an invalid annotation is the cluster default in a node cluster":       {in: TokenModeInput{Annotation: "imds", ClusterDefault: node}, want: node},
		"a secret service principal uses its secret in a federated cluster":    {in: TokenModeInput{Type: ServicePrincipal, HasCredential: true, ClusterDefault: fed}, want: node},
		"a certificate service principal uses it in a federated cluster":       {in: TokenModeInput{Type: ServicePrincipalCertificate, HasCredential: true, ClusterDefault: fed}, want: node},
		"a secret service principal uses its secret in a node cluster":         {in: TokenModeInput{Type: ServicePrincipal, HasCredential: true, ClusterDefault: node}, want: node},
		"a service principal annotated federated is exchanged":                 {in: TokenModeInput{Type: ServicePrincipal, HasCredential: true, Annotation: "federated", ClusterDefault: node}, want: fed},
		"a service principal with an invalid annotation still uses its secret": {in: TokenModeInput{Type: ServicePrincipal, HasCredential: true, Annotation: "x", ClusterDefault: fed}, want: node},
		"a service principal without a Secret follows the cluster default":     {in: TokenModeInput{Type: ServicePrincipal, ClusterDefault: fed}, want: fed},
		"a resolved mode resolves to itself whatever the default":              {in: TokenModeInput{Annotation: node, Type: UserAssignedMSI, ClusterDefault: fed}, want: node},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ResolveTokenMode(tc.in); got != tc.want {
				t.Fatalf("mode %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAzureIdentityTokenModeAndCloudAssignment(t *testing.T) {
	secret := &corev1.SecretReference{Name: "sp", Namespace: "default"}
	cases := map[string]struct {
		id         AzureIdentity
		def        string
		want       string
		wantCloud  bool
		wantWarned bool
	}{
		"a managed identity in a node cluster goes on the VMSS": {def: TokenModeNode, want: TokenModeNode, wantCloud: true},
		"a managed identity in a federated cluster does not":    {def: TokenModeFederated, want: TokenModeFederated},
		"an invalid annotation is warned about and a federated cluster's default applies": {
			id: identityWith("magic", UserAssignedMSI, nil), def: TokenModeFederated, want: TokenModeFederated, wantWarned: true},
		"an invalid annotation in a node cluster still puts the identity on the VMSS": {
			id: identityWith("magic", UserAssignedMSI, nil), def: TokenModeNode, want: TokenModeNode, wantCloud: true, wantWarned: true},
		"a service principal with its Secret uses it in a federated cluster, with no VMSS write": {
			id: identityWith("", ServicePrincipal, secret), def: TokenModeFederated, want: TokenModeNode},
		"a service principal whose Secret reference has no name follows the cluster default": {
			id: identityWith("", ServicePrincipal, &corev1.SecretReference{}), def: TokenModeFederated, want: TokenModeFederated},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.id.TokenMode(tc.def); got != tc.want {
				t.Errorf("mode %q, want %q", got, tc.want)
			}
			if got := tc.id.NeedsCloudAssignment(tc.def); got != tc.wantCloud {
				t.Errorf("needs cloud assignment %v, want %v", got, tc.wantCloud)
			}
			p, warned := tc.id.TokenModeProblem(tc.def)
			if warned != tc.wantWarned {
				t.Fatalf("warned %v (%s), want %v", warned, p, tc.wantWarned)
			}
			if warned && !(strings.Contains(p.Message, `"federated"`) && strings.Contains(p.Message, `"node"`) && strings.Contains(p.Message, tc.want+" mode")) {
				t.Errorf("message %q does not name the valid values and the mode used", p.Message)
			}
		})
	}
}

func identityWith(annotation string, typ IdentityType, secret *corev1.SecretReference) AzureIdentity {
	id := AzureIdentity{Spec: AzureIdentitySpec{Type: typ, ClientID: "c", ClientPassword: secret}}
	if annotation != "" {
		id.Annotations = map[string]string{TokenModeAnnotation: annotation}
	}
	return id
}

func TestExceptionExempts(t *testing.T) {
	labels := map[string]string{"tier": "system", "blank": ""}
	cases := map[string]struct {
		ns     string
		labels map[string]string
		want   bool
	}{
		"a pod carrying every listed label with its value is exempt": {labels: map[string]string{"tier": "system"}, want: true},
		"every listed label must match":                              {labels: map[string]string{"tier": "system", "x": "y"}},
		"a label with another value does not match":                  {labels: map[string]string{"tier": "web"}},
		"an empty listed value matches a pod carrying the key empty": {labels: map[string]string{"blank": ""}, want: true},
		"an empty listed value does not match a pod without the key": {labels: map[string]string{"absent": ""}},
		"an empty listed value does not match a non-empty value":     {labels: map[string]string{"tier": ""}},
		"an exception of another namespace does not cover the pod":   {ns: "other", labels: map[string]string{"tier": "system"}},
		"an exception without labels covers nothing":                 {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := tc.ns
			if ns == "" {
				ns = "default"
			}
			ex := &AzurePodIdentityException{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ex"},
				Spec: AzurePodIdentityExceptionSpec{PodLabels: tc.labels}}
			if got := ex.Exempts("default", labels); got != tc.want {
				t.Fatalf("exempts %v, want %v", got, tc.want)
			}
		})
	}
}

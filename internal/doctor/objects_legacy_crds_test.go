package doctor

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/config/crd"
)

func TestLegacyCRDs(t *testing.T) {
	podids, err := crd.Load()
	if err != nil {
		t.Fatal(err)
	}
	withCRDs := func(crds ...*apiextensionsv1.CustomResourceDefinition) *Facts {
		f := facts()
		for _, c := range crds {
			f.CRDs = append(f.CRDs, *c)
		}
		return f
	}
	runCases(t, "legacy-crds", map[string]checkCase{
		"podid's own CRDs pass": {
			facts: withCRDs(podids...),
			want:  []want{{status: Pass, message: "4 aadpodidentity.k8s.io CRDs keep the older PascalCase fields"}},
		},
		"an aad-pod-identity CRD with only camelCase fields fails": {
			facts: withCRDs(oldCRD("AzureIdentity", "azureidentities", "clientID", "resourceID", "type")),
			want: []want{{status: Fail, object: "CustomResourceDefinition azureidentities.aadpodidentity.k8s.io", message: "drops spec.Type, spec.ResourceID, spec.ClientID",
				fix: "kubectl apply -f config/crd"}},
		},
		"a CRD without a spec schema prunes every spelling": {
			facts: withCRDs(oldCRD("AzureIdentityBinding", "azureidentitybindings")),
			want: []want{{status: Fail, object: "CustomResourceDefinition azureidentitybindings.aadpodidentity.k8s.io", message: "drops spec.AzureIdentity, spec.Selector, spec.Weight",
				fix: "kubectl apply -f config/crd"}},
		},
		"no CRDs, nothing to examine": {facts: facts()},
	})
}

// oldCRD is a structural CRD of kind whose spec declares only fields, as
// aad-pod-identity's did; no fields means no spec property at all.
func oldCRD(kind, plural string, fields ...string) *apiextensionsv1.CustomResourceDefinition {
	root := apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{}}
	if len(fields) > 0 {
		spec := apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{}}
		for _, f := range fields {
			spec.Properties[f] = apiextensionsv1.JSONSchemaProps{Type: "string"}
		}
		root.Properties["spec"] = spec
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + ".aadpodidentity.k8s.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "aadpodidentity.k8s.io",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, Plural: plural},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &root}}},
		},
	}
}

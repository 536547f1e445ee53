package doctor

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// crdOf is an aadpodidentity.k8s.io CRD of plural, Established or not.
func crdOf(plural string, established bool) apiextensionsv1.CustomResourceDefinition {
	status := apiextensionsv1.ConditionFalse
	if established {
		status = apiextensionsv1.ConditionTrue
	}
	return apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + ".aadpodidentity.k8s.io"},
		Status: apiextensionsv1.CustomResourceDefinitionStatus{Conditions: []apiextensionsv1.CustomResourceDefinitionCondition{
			{Type: apiextensionsv1.Established, Status: status, Reason: "Installing"},
		}},
	}
}

func allCRDs() []apiextensionsv1.CustomResourceDefinition {
	var out []apiextensionsv1.CustomResourceDefinition
	for _, p := range RequiredCRDs {
		out = append(out, crdOf(p, true))
	}
	return out
}

func TestCheckCRDs(t *testing.T) {
	cases := map[string]struct {
		crds     []apiextensionsv1.CustomResourceDefinition
		problems []string
		want     []string
	}{
		"all four established pass": {
			crds: allCRDs(),
			want: []string{"pass"},
		},
		"none installed fails once per CRD": {
			want: []string{
				"fail CustomResourceDefinition azureassignedidentities.aadpodidentity.k8s.io",
				"fail CustomResourceDefinition azureidentities.aadpodidentity.k8s.io",
				"fail CustomResourceDefinition azureidentitybindings.aadpodidentity.k8s.io",
				"fail CustomResourceDefinition azurepodidentityexceptions.aadpodidentity.k8s.io",
			},
		},
		"one missing fails for that one": {
			crds: allCRDs()[:3],
			want: []string{"fail CustomResourceDefinition azurepodidentityexceptions.aadpodidentity.k8s.io"},
		},
		"one not established fails for that one": {
			crds: append(allCRDs()[1:], crdOf("azureassignedidentities", false)),
			want: []string{"fail CustomResourceDefinition azureassignedidentities.aadpodidentity.k8s.io"},
		},
		"CRDs that could not be listed skip": {
			problems: []string{"could not list CustomResourceDefinitions: forbidden"},
			want:     []string{"skip"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkCRDs(&Facts{CRDs: tc.crds, Problems: tc.problems})
			fix := ""
			if len(got) > 0 && got[0].Status == Fail {
				fix = crdFix
			}
			assertClusterFindings(t, got, tc.want, fix)
		})
	}
}

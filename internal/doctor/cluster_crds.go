package doctor

import (
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// crdFix installs podid's CRDs (config/crd in the repository).
const crdFix = "kubectl apply -f config/crd/"

// RequiredCRDs are the resources (plural) of podidv1.GroupVersion that
// mic, nmi and aad-pod-identity's clients all read.
var RequiredCRDs = []string{"azureassignedidentities", "azureidentities", "azureidentitybindings", "azurepodidentityexceptions"}

// checkCRDs reports each aadpodidentity.k8s.io CRD that is missing or not
// yet served.
func checkCRDs(f *Facts) []Finding {
	if couldNotList(f, "CustomResourceDefinitions") {
		return []Finding{{Status: Skip, Message: "CustomResourceDefinitions could not be listed (see the gather check)."}}
	}
	byName := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for i := range f.CRDs {
		byName[f.CRDs[i].Name] = &f.CRDs[i]
	}
	var out []Finding
	for _, plural := range RequiredCRDs {
		name := plural + "." + podidv1.GroupVersion.Group
		obj := Object("CustomResourceDefinition", "", name)
		crd, ok := byName[name]
		switch {
		case !ok:
			out = append(out, Finding{
				Status:  Fail,
				Object:  obj,
				Message: fmt.Sprintf("The CRD %s is not installed: the API server refuses its objects and mic and nmi cannot start their informers.", name),
				Fix:     crdFix,
			})
		case !established(crd):
			out = append(out, Finding{
				Status:   Fail,
				Object:   obj,
				Message:  fmt.Sprintf("The CRD %s is installed but not established, so the API server does not serve it yet.", name),
				Evidence: conditionsOf(crd),
				Fix:      crdFix,
			})
		}
	}
	if len(out) == 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("All %d %s CRDs are installed and served.", len(RequiredCRDs), podidv1.GroupVersion.Group)})
	}
	return out
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

func conditionsOf(crd *apiextensionsv1.CustomResourceDefinition) []string {
	var out []string
	for _, c := range crd.Status.Conditions {
		s := fmt.Sprintf("condition %s=%s", c.Type, c.Status)
		if c.Reason != "" {
			s += " " + c.Reason
		}
		if c.Message != "" {
			s += ": " + c.Message
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		out = append(out, "no conditions yet")
	}
	return out
}

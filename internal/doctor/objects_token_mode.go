package doctor

import (
	"fmt"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
)

// checkTokenModeAnnotation finds AzureIdentities whose token-mode
// annotation is not a token mode (api/v1's TokenModeProblem): the value is
// ignored, and the identity gets the mode it would get without it.
func checkTokenModeAnnotation(f *Facts) []Finding {
	def := clusterTokenMode(f)
	var out []Finding
	examined := 0
	for i := range f.Identities {
		id := &f.Identities[i]
		v, annotated := id.Annotations[podidv1.TokenModeAnnotation]
		if !annotated || !f.IdentityInScope(id) {
			continue
		}
		examined++
		p, bad := id.TokenModeProblem(def)
		if !bad {
			continue
		}
		// Keep what the identity does today unless the value is a
		// typo of the other mode.
		want := id.TokenMode(def)
		if near := closest(strings.ToLower(strings.TrimSpace(v)), []string{podidv1.TokenModeFederated, podidv1.TokenModeNode}); len(near) > 0 {
			want = near[0].Name
		}
		out = append(out, Finding{
			Status:   Fail,
			Object:   Object("AzureIdentity", id.Namespace, id.Name),
			Message:  fmt.Sprintf("The annotation %s=%q is not a token mode (valid values: %q, %q), so it is ignored and the identity gets tokens in %s mode.", podidv1.TokenModeAnnotation, v, podidv1.TokenModeFederated, podidv1.TokenModeNode, id.TokenMode(def)),
			Evidence: []string{p.String()},
			Fix:      fmt.Sprintf("kubectl -n %s annotate azureidentity %s %s=%s --overwrite", id.Namespace, id.Name, podidv1.TokenModeAnnotation, want),
		})
	}
	if len(out) > 0 {
		return out
	}
	return objPass(examined, objPlural(examined, "AzureIdentity's token-mode annotation is valid", "AzureIdentities' token-mode annotations are valid"))
}

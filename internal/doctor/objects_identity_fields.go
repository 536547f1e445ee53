package doctor

import (
	"fmt"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
)

// checkIdentityFields finds AzureIdentities that cannot work as written:
// the fields api/v1's Problems says are missing for the identity's type
// and token mode, a type out of range, and values that break the format
// rules of podid's CRD. The API server enforces those rules at apply time,
// but objects stored under an older aad-pod-identity CRD never met them.
func checkIdentityFields(f *Facts) []Finding {
	rules, rulesErr := identityFormatRules()
	def := clusterTokenMode(f)
	var out []Finding
	examined := 0
	for i := range f.Identities {
		id := &f.Identities[i]
		if !f.IdentityInScope(id) || id.DeletionTimestamp != nil {
			continue
		}
		examined++
		var problems []string
		if id.Spec.Type.String() == "Unknown" {
			problems = append(problems, fmt.Sprintf("spec.type: %d is not an identity type; use 0 (user-assigned managed identity), 1 (service principal with a client secret) or 2 (service principal with a certificate)", id.Spec.Type))
		}
		for _, p := range id.Problems(def) {
			problems = append(problems, p.String())
		}
		for _, p := range rules.problems(id) {
			problems = append(problems, p.String())
		}
		if len(problems) == 0 {
			continue
		}
		fields := make([]string, len(problems))
		for j, p := range problems {
			fields[j], _, _ = strings.Cut(p, ":")
		}
		out = append(out, Finding{
			Status: Fail,
			Object: Object("AzureIdentity", id.Namespace, id.Name),
			Message: fmt.Sprintf("The %s identity cannot work as written: %s %s.", id.Spec.Type,
				strings.Join(fields, ", "), objPlural(len(fields), "is wrong", "are wrong")),
			Evidence: problems,
			Fix:      editCmd("azureidentity", id.Namespace, id.Name),
		})
	}
	if rulesErr != nil && examined > 0 {
		out = append(out, Finding{Status: Skip, Message: "Could not read podid's CRD rules to check field formats: " + rulesErr.Error()})
	}
	if len(out) > 0 {
		return out
	}
	return objPass(examined, objPlural(examined, "AzureIdentity has every field its type and token mode need, well formed", "AzureIdentities have every field their type and token mode need, well formed"))
}

// clusterTokenMode is the cluster's default token mode, mic's --token-mode,
// which decides whether a managed identity needs its resource ID. mic
// defaults to federated (controller.NewOptions) when the setting is unknown.
func clusterTokenMode(f *Facts) string {
	if f.Settings.TokenMode != "" {
		return f.Settings.TokenMode
	}
	return podidv1.TokenModeFederated
}

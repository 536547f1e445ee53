package doctor

import (
	"fmt"

	"github.com/podid/podid/internal/wi"
)

// checkWITokenRefusals: when a workload-identity pod asks IMDS, the node
// agent exchanges the pod's own projected token, and records Azure AD's
// refusals for good (AADSTS70021 for a federated credential that does not
// match, AADSTS700024 for an expired assertion, AADSTS700016 for an
// unknown client ID) as Warning events on the pod's ServiceAccount. The
// newest recent one of each ServiceAccount of labelled pods in scope is a
// failure with the agent's fix. (An SDK that reads
// AZURE_FEDERATED_TOKEN_FILE itself talks to Azure AD directly; its
// refusals are only in the application's log.)
func checkWITokenRefusals(f *Facts) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for i := range f.Pods {
		p := &f.Pods[i]
		if !wiRunning(p) || !wiLabelled(p) || !f.PodInScope(p) {
			continue
		}
		sa := wi.ServiceAccountOf(&p.Spec)
		if seen[p.Namespace+"/"+sa] {
			continue
		}
		seen[p.Namespace+"/"+sa] = true
		if r, ok := newestRefusal(f, "ServiceAccount", p.Namespace, sa); ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 && len(seen) > 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("no node agent reported Azure AD refusing the tokens of %d %s of labelled pods in the last %s",
			len(seen), plural(len(seen), "service account", "service accounts"), refusalWindow)})
	}
	return out
}

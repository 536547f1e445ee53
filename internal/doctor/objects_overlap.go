package doctor

import (
	"fmt"
	"sort"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller/assign"
)

// checkOverlappingSelectors warns about bindings of one namespace that
// share a selector and name different identities (mic's
// OverlappingSelectors): their pods get every one of those identities and
// must name one in each token request, or are refused. It can be meant,
// hence a warning.
func checkOverlappingSelectors(f *Facts) []Finding {
	// mic reports each binding of a group; the doctor reports each group
	// once, on its first binding.
	groups := map[string][]*podidv1.AzureIdentityBinding{}
	said := map[string]assign.Finding{}
	for _, fd := range findingsWith(decide(f), assign.ReasonOverlappingSelectors) {
		b := objBinding(f, fd.Object.Namespace, fd.Object.Name)
		if b == nil {
			continue
		}
		g := key(b.Namespace, b.Spec.Selector)
		groups[g] = append(groups[g], b)
		said[g] = fd
	}
	var out []Finding
	for _, g := range objSortedKeys(groups) {
		bs := groups[g]
		sort.Slice(bs, func(i, j int) bool { return bs[i].Name < bs[j].Name })
		inScope := false
		var names, ids []string
		seenID := map[string]bool{}
		for _, b := range bs {
			inScope = inScope || f.BindingInScope(b)
			names = append(names, b.Name)
			if !seenID[b.Spec.AzureIdentity] {
				seenID[b.Spec.AzureIdentity] = true
				ids = append(ids, b.Spec.AzureIdentity)
			}
		}
		if !inScope {
			continue
		}
		first := bs[0]
		pods := 0
		for i := range f.Pods {
			if f.Pods[i].Namespace == first.Namespace && podidv1.BindingSelects(first, f.Pods[i].Labels) {
				pods++
			}
		}
		fnd := Finding{
			Status: Warn,
			Object: Object("AzureIdentityBinding", first.Namespace, first.Name),
			Message: fmt.Sprintf("Bindings %s of namespace %s share selector %q and name identities %s, so pods labelled with it (%d now) get all of them and must name one (client_id) in every token request.",
				strings.Join(names, ", "), first.Namespace, first.Spec.Selector, strings.Join(ids, ", "), pods),
			Evidence: []string{micSaid(said[g])},
			// Giving the other bindings their own selector is the fix
			// unless the pods are meant to have several identities.
			Fix: editCmd("azureidentitybinding", first.Namespace, bs[len(bs)-1].Name),
		}
		for _, b := range bs {
			fnd.Evidence = append(fnd.Evidence, fmt.Sprintf("binding %s: selector %q, identity %s", b.Name, b.Spec.Selector, b.Spec.AzureIdentity))
		}
		out = append(out, fnd)
	}
	if len(out) > 0 {
		return out
	}
	examined := 0
	for i := range f.Bindings {
		if f.BindingInScope(&f.Bindings[i]) && f.Bindings[i].Spec.Selector != "" {
			examined++
		}
	}
	return objPass(examined, objPlural(examined, "binding's selector leads to one identity", "bindings' selectors each lead to one identity in their namespace"))
}

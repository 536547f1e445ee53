package doctor

import (
	"fmt"

	"github.com/podid/podid/internal/controller/assign"
)

// checkBindingIdentity finds bindings whose spec.azureIdentity names no
// AzureIdentity of their namespace (mic's BindingIdentityNotFound), and
// names the identities that were probably meant.
func checkBindingIdentity(f *Facts) []Finding {
	missing := map[string]assign.Finding{}
	for _, fd := range findingsWith(decide(f), assign.ReasonIdentityNotFound) {
		missing[key(fd.Object.Namespace, fd.Object.Name)] = fd
	}
	var out []Finding
	examined := 0
	for i := range f.Bindings {
		b := &f.Bindings[i]
		if !f.BindingInScope(b) || b.DeletionTimestamp != nil {
			continue
		}
		examined++
		fd, ok := missing[key(b.Namespace, b.Name)]
		if !ok {
			continue
		}
		var names, elsewhere []string
		for _, id := range f.Identities {
			switch {
			case id.Namespace == b.Namespace:
				names = append(names, id.Name)
			case id.Name == b.Spec.AzureIdentity:
				elsewhere = append(elsewhere, id.Namespace)
			}
		}
		fnd := Finding{
			Status: Fail,
			Object: Object("AzureIdentityBinding", b.Namespace, b.Name),
			Message: fmt.Sprintf("The binding names AzureIdentity %q, which does not exist in namespace %s, so pods labelled %s get no identity from it.",
				b.Spec.AzureIdentity, b.Namespace, shellQuote(b.Spec.Selector)),
			Evidence: []string{fmt.Sprintf("spec.azureIdentity %q", b.Spec.AzureIdentity), micSaid(fd)},
			Fix:      editCmd("azureidentitybinding", b.Namespace, b.Name),
		}
		near := closest(b.Spec.AzureIdentity, names)
		for _, n := range near {
			fnd.Evidence = append(fnd.Evidence, fmt.Sprintf("AzureIdentity %s/%s %s", b.Namespace, n.Name, n.Why))
		}
		for _, ns := range elsewhere {
			fnd.Evidence = append(fnd.Evidence, fmt.Sprintf("an AzureIdentity %q exists in namespace %s, which this binding cannot use", b.Spec.AzureIdentity, ns))
		}
		if len(near) > 0 {
			fnd.Message = fmt.Sprintf("The binding names AzureIdentity %q, which does not exist in namespace %s; it probably means %q.", b.Spec.AzureIdentity, b.Namespace, near[0].Name)
			fnd.Fix = patchCmd("azureidentitybinding", b.Namespace, b.Name, map[string]any{"spec": map[string]string{"azureIdentity": near[0].Name}})
		}
		out = append(out, fnd)
	}
	if len(out) > 0 {
		return out
	}
	return objPass(examined, objPlural(examined, "binding names an existing AzureIdentity", "bindings each name an existing AzureIdentity"))
}

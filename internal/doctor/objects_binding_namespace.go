package doctor

import (
	"fmt"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller/assign"
)

// checkBindingNamespace warns, when mic runs with --cluster-wide-bindings,
// about bindings that serve pods of other namespaces (mic's
// CrossNamespaceBinding): any pod that can set the label gets the identity.
// The pods come from mic's own decision (assign.Desired), not a second
// reading of the rule.
func checkBindingNamespace(f *Facts) []Finding {
	if !f.Settings.ClusterWideBindings {
		return nil
	}
	res := decide(f)
	served := map[string][]string{} // binding ns/name -> pods ns/name
	for _, a := range res.Desired {
		if a.Binding.Namespace == a.Pod.Namespace {
			continue
		}
		p := f.Pod(key(a.Pod.Namespace, a.Pod.Name))
		if (p == nil || !f.PodInScope(p)) && !f.BindingInScope(a.Binding) {
			continue
		}
		k := key(a.Binding.Namespace, a.Binding.Name)
		served[k] = append(served[k], key(a.Pod.Namespace, a.Pod.Name))
	}
	said := map[string][]string{}
	for _, fd := range findingsWith(res, assign.ReasonClusterWide) {
		k := key(fd.Object.Namespace, fd.Object.Name)
		said[k] = append(said[k], micSaid(fd))
	}
	var out []Finding
	for _, k := range objSortedKeys(served) {
		ns, name, _ := strings.Cut(k, "/")
		b := objBinding(f, ns, name)
		pods := served[k]
		out = append(out, Finding{
			Status: Warn,
			Object: Object("AzureIdentityBinding", ns, name),
			Message: fmt.Sprintf("The binding gives identity %s to %d %s of other namespaces (%s), because mic runs with --cluster-wide-bindings.",
				b.Spec.AzureIdentity, len(pods), objPlural(len(pods), "pod", "pods"), strings.Join(pods, ", ")),
			Evidence: said[k],
			Fix:      fmt.Sprintf("kubectl -n %s annotate azureidentity %s %s=%s", ns, b.Spec.AzureIdentity, podidv1.BehaviorAnnotation, podidv1.BehaviorNamespaced),
		})
	}
	if len(out) > 0 {
		return out
	}
	examined := 0
	for i := range f.Bindings {
		if f.BindingInScope(&f.Bindings[i]) {
			examined++
		}
	}
	return objPass(examined, objPlural(examined, "binding serves only pods of its own namespace", "bindings serve only pods of their own namespace")+", although mic runs with --cluster-wide-bindings")
}

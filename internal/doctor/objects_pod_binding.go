package doctor

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller/assign"
)

// checkPodBinding finds labelled pods that no binding serves: their label
// matches no selector at all (NoMatchingBinding), or only selectors of
// other namespaces (BindingInOtherNamespace). mic says so in an event; the
// doctor adds the selectors the label was probably meant to be.
func checkPodBinding(f *Facts) []Finding {
	res := decide(f)
	unserved := map[string]assign.Finding{}
	for _, fd := range findingsWith(res, assign.ReasonNoBinding, assign.ReasonOtherNamespace) {
		unserved[key(fd.Object.Namespace, fd.Object.Name)] = fd
	}
	var out []Finding
	examined := 0
	for i := range f.Pods {
		p := &f.Pods[i]
		if p.Labels[podidv1.SelectorLabel] == "" || !f.PodInScope(p) {
			continue
		}
		if fd, ok := unserved[key(p.Namespace, p.Name)]; ok {
			examined++
			out = append(out, unservedPod(f, p, fd))
		} else if len(f.BindingsSelecting(p)) > 0 {
			examined++
		}
	}
	if len(out) > 0 {
		return out
	}
	return objPass(examined, objPlural(examined, "labelled pod is matched by a binding of its namespace", "labelled pods each matched by a binding of their namespace"))
}

// unservedPod explains one pod mic found no binding for.
func unservedPod(f *Facts, p *corev1.Pod, fd assign.Finding) Finding {
	sel := p.Labels[podidv1.SelectorLabel]
	out := Finding{
		Status:   Fail,
		Object:   Object("Pod", p.Namespace, p.Name),
		Evidence: []string{fmt.Sprintf("label %s=%q", podidv1.SelectorLabel, sel), micSaid(fd)},
	}
	var selectors []string
	identities := map[string]bool{}
	for _, b := range f.Bindings {
		if b.Namespace == p.Namespace && b.Spec.Selector != "" {
			selectors = append(selectors, b.Spec.Selector)
		}
	}
	for _, id := range f.Identities {
		if id.Namespace == p.Namespace {
			identities[id.Name] = true
		}
	}
	near := closest(sel, selectors)
	for _, n := range near {
		out.Evidence = append(out.Evidence, fmt.Sprintf("selector %q of namespace %s %s", n.Name, p.Namespace, n.Why))
	}
	if fd.Reason == assign.ReasonOtherNamespace {
		return otherNamespacePod(f, p, sel, near, out)
	}
	out.Message = fmt.Sprintf("The pod's label %s=%q matches no AzureIdentityBinding, so it gets no identity.", podidv1.SelectorLabel, sel)
	switch {
	case len(near) > 0:
		out.Message = fmt.Sprintf("The pod's label %s=%q matches no AzureIdentityBinding; it probably means %q, the selector of a binding in namespace %s.", podidv1.SelectorLabel, sel, near[0].Name, p.Namespace)
		out.Fix = nearSelectorFix(f, p, sel, near[0].Name)
	case len(identities) == 1:
		out.Fix = createBindingCmd(p.Namespace, objSortedKeys(identities)[0], sel)
	default:
		out.Evidence = append(out.Evidence, fmt.Sprintf("namespace %s has %d AzureIdentities: name the one the pod needs in the binding", p.Namespace, len(identities)))
		out.Fix = createBindingCmd(p.Namespace, "<identity>", sel)
	}
	return out
}

// otherNamespacePod explains a pod whose selector only bindings of other
// namespaces carry: a binding serves its own namespace's pods unless mic
// runs with --cluster-wide-bindings (or the identity opts out of that).
func otherNamespacePod(f *Facts, p *corev1.Pod, sel string, near []nearName, out Finding) Finding {
	var elsewhere []string
	var first *podidv1.AzureIdentityBinding
	for i := range f.Bindings {
		b := &f.Bindings[i]
		if b.Namespace != p.Namespace && podidv1.BindingSelects(b, p.Labels) {
			elsewhere = append(elsewhere, key(b.Namespace, b.Name))
			if first == nil {
				first = b
			}
		}
	}
	out.Message = fmt.Sprintf("The pod's label %s=%q matches only bindings of other namespaces (%s), and a binding serves pods of its own namespace.",
		podidv1.SelectorLabel, sel, strings.Join(elsewhere, ", "))
	switch {
	case len(near) > 0:
		out.Fix = nearSelectorFix(f, p, sel, near[0].Name)
	case first == nil:
		out.Fix = createBindingCmd(p.Namespace, "<identity>", sel)
	case f.Identity(p.Namespace, first.Spec.AzureIdentity) != nil:
		out.Fix = createBindingCmd(p.Namespace, first.Spec.AzureIdentity, sel)
	default:
		out.Fix = copyIdentityCmd(first.Namespace, first.Spec.AzureIdentity, first.Name, p.Namespace)
	}
	return out
}

// nearSelectorFix relabels the pod with the selector it probably means.
// A selector that no label can carry ("web " with its space: selectors are
// free strings, label values are not) is fixed in the binding instead.
func nearSelectorFix(f *Facts, p *corev1.Pod, label, selector string) string {
	if len(validation.IsValidLabelValue(selector)) == 0 {
		return relabelPodCmd(p.Namespace, p.Name, selector)
	}
	for _, b := range f.Bindings {
		if b.Namespace == p.Namespace && b.Spec.Selector == selector {
			return patchCmd("azureidentitybinding", b.Namespace, b.Name, map[string]any{"spec": map[string]string{"selector": label}})
		}
	}
	return relabelPodCmd(p.Namespace, p.Name, selector)
}

package doctor

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller/assign"
)

// checkPodExempt warns about labelled pods that a binding selects but that
// get no identity: an AzurePodIdentityException covers them (their token
// requests go to the node's IMDS), or they use the host network, where
// their requests cannot be told from the node's (mic's
// PodIdentityException and HostNetworkPod).
func checkPodExempt(f *Facts) []Finding {
	res := decide(f)
	var out []Finding
	for _, fd := range findingsWith(res, assign.ReasonException, assign.ReasonHostNetwork) {
		p := f.Pod(key(fd.Object.Namespace, fd.Object.Name))
		if p == nil || !f.PodInScope(p) {
			continue
		}
		sel := p.Labels[podidv1.SelectorLabel]
		fnd := Finding{
			Status:   Warn,
			Object:   Object("Pod", p.Namespace, p.Name),
			Evidence: []string{fmt.Sprintf("label %s=%q", podidv1.SelectorLabel, sel), micSaid(fd)},
		}
		if fd.Reason == assign.ReasonHostNetwork {
			fnd.Message = fmt.Sprintf("The pod is labelled %s=%q but uses the host network, so it gets no pod identity; its token requests cannot be told from the node's.", podidv1.SelectorLabel, sel)
			fnd.Evidence = append(fnd.Evidence, "spec.hostNetwork: true")
			fnd.Fix = hostNetworkFix(p)
		} else {
			ex := exceptionOf(f, p)
			fnd.Message = fmt.Sprintf("The pod is labelled %s=%q but AzurePodIdentityException %s exempts it, so it gets the node's identity instead of a pod identity.", podidv1.SelectorLabel, sel, key(ex.Namespace, ex.Name))
			fnd.Evidence = append(fnd.Evidence, fmt.Sprintf("AzurePodIdentityException %s/%s: podLabels %s", ex.Namespace, ex.Name, labelsText(ex.Spec.PodLabels)))
			fnd.Fix = editCmd("azurepodidentityexception", ex.Namespace, ex.Name)
		}
		out = append(out, fnd)
	}
	if len(out) > 0 {
		return out
	}
	served := map[string]bool{}
	for _, a := range res.Desired {
		if p := f.Pod(key(a.Pod.Namespace, a.Pod.Name)); p != nil && f.PodInScope(p) {
			served[key(p.Namespace, p.Name)] = true
		}
	}
	return objPass(len(served), objPlural(len(served), "selected pod is neither exempt nor on the host network", "selected pods are neither exempt nor on the host network"))
}

// exceptionOf returns the exception that covers p, by the rule mic and the
// node agent apply (AzurePodIdentityException.Exempts). mic found one, so
// there is one.
func exceptionOf(f *Facts, p *corev1.Pod) *podidv1.AzurePodIdentityException {
	for i := range f.Exceptions {
		if f.Exceptions[i].Exempts(p.Namespace, p.Labels) {
			return &f.Exceptions[i]
		}
	}
	return &podidv1.AzurePodIdentityException{}
}

// hostNetworkFix is where hostNetwork: true is removed: the pod's
// template, since a pod's spec.hostNetwork cannot change. A ReplicaSet's
// pods are edited through its Deployment, named by the ReplicaSet's name
// less its pod-template-hash.
func hostNetworkFix(p *corev1.Pod) string {
	for _, o := range p.OwnerReferences {
		if o.Controller == nil || !*o.Controller {
			continue
		}
		if hash := p.Labels["pod-template-hash"]; o.Kind == "ReplicaSet" && hash != "" && strings.HasSuffix(o.Name, "-"+hash) {
			return editCmd("deployment", p.Namespace, strings.TrimSuffix(o.Name, "-"+hash))
		}
		return editCmd(strings.ToLower(o.Kind), p.Namespace, o.Name)
	}
	return fmt.Sprintf("kubectl get pod -n %s %s -o yaml | sed '/^  hostNetwork: true$/d' | kubectl replace --force -f -", p.Namespace, p.Name)
}

// labelsText prints labels as k=v pairs, in order.
func labelsText(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range objSortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

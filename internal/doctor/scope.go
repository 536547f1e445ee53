package doctor

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// key is "namespace/name".
func key(ns, name string) string { return ns + "/" + name }

// PodInScope reports whether the run reports on pod p.
func (f *Facts) PodInScope(p *corev1.Pod) bool {
	switch {
	case f.Scope.Pod != "":
		return key(p.Namespace, p.Name) == f.Scope.Pod
	case f.Scope.Identity != "":
		for _, b := range f.BindingsSelecting(p) {
			if id := f.IdentityOf(&b); id != nil && key(id.Namespace, id.Name) == f.Scope.Identity {
				return true
			}
		}
		return false
	case f.Scope.Namespace != "":
		return p.Namespace == f.Scope.Namespace
	}
	return true
}

// IdentityInScope reports whether the run reports on identity id: in pod
// scope, the identities of the bindings that select the pod.
func (f *Facts) IdentityInScope(id *podidv1.AzureIdentity) bool {
	switch {
	case f.Scope.Pod != "":
		p := f.Pod(f.Scope.Pod)
		if p == nil {
			return false
		}
		for _, b := range f.BindingsSelecting(p) {
			if b.Namespace == id.Namespace && b.Spec.AzureIdentity == id.Name {
				return true
			}
		}
		return false
	case f.Scope.Identity != "":
		return key(id.Namespace, id.Name) == f.Scope.Identity
	case f.Scope.Namespace != "":
		return id.Namespace == f.Scope.Namespace
	}
	return true
}

// BindingInScope reports whether the run reports on binding b.
func (f *Facts) BindingInScope(b *podidv1.AzureIdentityBinding) bool {
	switch {
	case f.Scope.Pod != "":
		p := f.Pod(f.Scope.Pod)
		return p != nil && b.Namespace == p.Namespace && podidv1.BindingSelects(b, p.Labels)
	case f.Scope.Identity != "":
		return key(b.Namespace, b.Spec.AzureIdentity) == f.Scope.Identity
	case f.Scope.Namespace != "":
		return b.Namespace == f.Scope.Namespace
	}
	return true
}

// ClusterInScope reports whether cluster-wide checks (components, CRDs,
// agents) report: always, as every scope depends on them.
func (f *Facts) ClusterInScope() bool { return true }

// Pod returns the pod "namespace/name", or nil.
func (f *Facts) Pod(nsName string) *corev1.Pod {
	for i := range f.Pods {
		if key(f.Pods[i].Namespace, f.Pods[i].Name) == nsName {
			return &f.Pods[i]
		}
	}
	return nil
}

// Identity returns the AzureIdentity ns/name, or nil.
func (f *Facts) Identity(ns, name string) *podidv1.AzureIdentity {
	for i := range f.Identities {
		if f.Identities[i].Namespace == ns && f.Identities[i].Name == name {
			return &f.Identities[i]
		}
	}
	return nil
}

// IdentityOf returns the identity binding b names, or nil.
func (f *Facts) IdentityOf(b *podidv1.AzureIdentityBinding) *podidv1.AzureIdentity {
	return f.Identity(b.Namespace, b.Spec.AzureIdentity)
}

// BindingsSelecting returns the bindings of the pod's namespace whose
// selector matches its aadpodidbinding label (the rule mic applies).
func (f *Facts) BindingsSelecting(p *corev1.Pod) []podidv1.AzureIdentityBinding {
	var out []podidv1.AzureIdentityBinding
	for i := range f.Bindings {
		b := &f.Bindings[i]
		if (b.Namespace == p.Namespace || f.Settings.ClusterWideBindings) && podidv1.BindingSelects(b, p.Labels) {
			out = append(out, *b)
		}
	}
	return out
}

// AssignmentsOf returns the AzureAssignedIdentities of pod p.
func (f *Facts) AssignmentsOf(p *corev1.Pod) []podidv1.AzureAssignedIdentity {
	var out []podidv1.AzureAssignedIdentity
	for _, a := range f.Assignments {
		if a.Spec.PodNamespace == p.Namespace && a.Spec.Pod == p.Name {
			out = append(out, a)
		}
	}
	return out
}

// EventsFor returns the Warning events about the object of kind ns/name,
// newest last.
func (f *Facts) EventsFor(kind, ns, name string) []corev1.Event {
	var out []corev1.Event
	for _, e := range f.Events {
		o := e.InvolvedObject
		if strings.EqualFold(o.Kind, kind) && o.Namespace == ns && o.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Object names an object for a finding: "Kind namespace/name".
func Object(kind, ns, name string) string {
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

package podindex

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/server"
)

// Reasons an assignment is not honoured. An AzureAssignedIdentity is only
// a claim; the agent serves it only when the live objects justify it, so
// whoever can write one cannot hand a pod an identity its own label does
// not give it.
const (
	// ReasonNoReferences: the assignment does not name both the identity
	// and the binding it comes from.
	ReasonNoReferences = "MissingReferences"
	// ReasonPodNotFound: the pod it names is not on this node.
	ReasonPodNotFound = "PodNotFound"
	// ReasonBindingNotFound: the binding it names does not exist (or is
	// being deleted).
	ReasonBindingNotFound = "BindingNotFound"
	// ReasonSelectorMismatch: the pod's aadpodidbinding label is not the
	// binding's selector.
	ReasonSelectorMismatch = "SelectorMismatch"
	// ReasonOtherIdentity: the binding names another identity than the
	// assignment.
	ReasonOtherIdentity = "BindingNamesAnotherIdentity"
	// ReasonIdentityNotFound: the identity does not exist (or is being
	// deleted).
	ReasonIdentityNotFound = "IdentityNotFound"
	// ReasonOtherNamespace: the binding may not serve pods of the pod's
	// namespace (v1.BindingServes, the controller's rule).
	ReasonOtherNamespace = "BindingInOtherNamespace"
	// ReasonOtherNode: spec.nodename is not the node the pod runs on: the
	// assignment was made for an earlier pod of that name on another node.
	ReasonOtherNode = "AssignedOnAnotherNode"
	// ReasonOtherPod: the pod UID the controller recorded
	// (v1.PodUIDAnnotation) is not the live pod's: the assignment was made
	// for an earlier pod of that name, deleted since.
	ReasonOtherPod = "AssignedToAnotherPod"
)

// liveObjects are the objects an assignment names, as this node's caches
// hold them now; nil means there is none.
type liveObjects struct {
	// Pod is the pod of spec.podNamespace/spec.pod on this node.
	Pod *corev1.Pod
	// Binding is the AzureIdentityBinding spec.azureBindingRef names.
	Binding *v1.AzureIdentityBinding
	// Identity is the AzureIdentity spec.azureIdentityRef names.
	Identity *v1.AzureIdentity
	// ClusterWide is the controller's cluster-wide bindings option.
	ClusterWide bool
}

// verdict says why an assignment is not honoured; the zero value honours it.
type verdict struct {
	Reason  string
	Message string
}

func refuse(reason, format string, args ...any) verdict {
	return verdict{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// vouch decides whether assignment a agrees with the live objects: its pod
// is on this node, is the node spec.nodename names and, when the
// controller recorded one, has the recorded UID (an assignment from
// aad-pod-identity's MIC has none, and is judged by the rest), its binding
// exists, selects the pod by the pod's live label, names the assignment's
// identity, which exists, and may serve the pod's namespace by the
// controller's rule (v1.BindingSelects, v1.BindingServes). If so it
// returns what the pod may use, read from the live identity (client ID,
// resource ID, tenant, type, secret, token-mode annotation), with the
// assignment's state and resolved token mode. Otherwise the verdict says
// why it is ignored.
func vouch(a *v1.AzureAssignedIdentity, live liveObjects) (server.Assigned, verdict) {
	ref, bref := a.Spec.AzureIdentityRef, a.Spec.AzureBindingRef
	if ref == nil || bref == nil {
		return server.Assigned{}, refuse(ReasonNoReferences,
			"The assignment does not name both spec.azureIdentityRef and spec.azureBindingRef, so it is ignored.")
	}
	p := live.Pod
	if p == nil || p.Namespace != a.Spec.PodNamespace || p.Name != a.Spec.Pod {
		return server.Assigned{}, refuse(ReasonPodNotFound,
			"Pod %s/%s is not on this node, so the assignment is ignored.", a.Spec.PodNamespace, a.Spec.Pod)
	}
	// A pod deleted and recreated under its name is another pod: in node
	// mode the identity may not be on its node's machine yet, and the old
	// assignment's status says nothing about the new pod.
	if a.Spec.NodeName != p.Spec.NodeName {
		return server.Assigned{}, refuse(ReasonOtherNode,
			"The assignment is for pod %s/%s on node %q, but the pod runs on node %q, so it is ignored; mic will replace it with one for this node.",
			p.Namespace, p.Name, a.Spec.NodeName, p.Spec.NodeName)
	}
	if uid, ok := a.Annotations[v1.PodUIDAnnotation]; ok && uid != string(p.UID) {
		return server.Assigned{}, refuse(ReasonOtherPod,
			"The assignment was made for an earlier pod %s/%s (UID %s), not the running one (UID %s), so it is ignored; mic will replace it with one for this pod.",
			p.Namespace, p.Name, uid, p.UID)
	}
	b := live.Binding
	if b == nil || b.Namespace != bref.Namespace || b.Name != bref.Name || b.DeletionTimestamp != nil {
		return server.Assigned{}, refuse(ReasonBindingNotFound,
			"AzureIdentityBinding %s/%s does not exist, so the assignment is ignored.", bref.Namespace, bref.Name)
	}
	if !v1.BindingSelects(b, p.Labels) {
		return server.Assigned{}, refuse(ReasonSelectorMismatch,
			"AzureIdentityBinding %s/%s has selector %q but the pod's %s label is %q, so the assignment is ignored.",
			b.Namespace, b.Name, b.Spec.Selector, v1.SelectorLabel, p.Labels[v1.SelectorLabel])
	}
	if b.Namespace != ref.Namespace || b.Spec.AzureIdentity != ref.Name {
		return server.Assigned{}, refuse(ReasonOtherIdentity,
			"AzureIdentityBinding %s/%s names identity %s/%s, not %s/%s, so the assignment is ignored.",
			b.Namespace, b.Name, b.Namespace, b.Spec.AzureIdentity, ref.Namespace, ref.Name)
	}
	id := live.Identity
	if id == nil || id.Namespace != ref.Namespace || id.Name != ref.Name || id.DeletionTimestamp != nil {
		return server.Assigned{}, refuse(ReasonIdentityNotFound,
			"AzureIdentity %s/%s does not exist, so the assignment is ignored.", ref.Namespace, ref.Name)
	}
	if !v1.BindingServes(b, id, p.Namespace, live.ClusterWide) {
		return server.Assigned{}, refuse(ReasonOtherNamespace,
			"AzureIdentityBinding %s/%s may not serve pods of namespace %s, so the assignment is ignored.",
			b.Namespace, b.Name, p.Namespace)
	}
	return toAssigned(a, id), verdict{}
}

package doctor

import (
	"fmt"
	"time"

	podidv1 "github.com/podid/podid/api/v1"
)

// staleGrace is how long mic may take to remove the assignment of a pod
// that is gone before the doctor calls it stuck.
const staleGrace = time.Minute

// assignmentInScope reports whether the run reports on assignment a.
func (f *Facts) assignmentInScope(a *podidv1.AzureAssignedIdentity) bool {
	switch {
	case f.Scope.Pod != "":
		return key(a.Spec.PodNamespace, a.Spec.Pod) == f.Scope.Pod
	case f.Scope.Identity != "":
		id := a.Spec.AzureIdentityRef
		return id != nil && key(id.Namespace, id.Name) == f.Scope.Identity
	case f.Scope.Namespace != "":
		return a.Spec.PodNamespace == f.Scope.Namespace
	}
	return true
}

// checkStaleAssignments: an assignment outliving its pod keeps the identity
// on the node's VM or VMSS in node mode (every pod on it may then reach
// the identity through the node's IMDS if exempt), and a pod of the same
// name created later is not the one it was made for. mic removes them; one
// that stays past staleGrace means mic is not doing its work.
func checkStaleAssignments(f *Facts) []Finding {
	var out []Finding
	examined := 0
	for i := range f.Assignments {
		a := &f.Assignments[i]
		if !f.assignmentInScope(a) {
			continue
		}
		examined++
		pod := f.Pod(key(a.Spec.PodNamespace, a.Spec.Pod))
		age := f.Now.Sub(a.CreationTimestamp.Time)
		switch {
		case pod != nil && (pod.Spec.NodeName == "" || pod.Spec.NodeName == a.Spec.NodeName):
			continue
		case a.DeletionTimestamp != nil || age < staleGrace:
			continue
		}
		msg := fmt.Sprintf("assignment of pod %s/%s outlives its pod", a.Spec.PodNamespace, a.Spec.Pod)
		if pod != nil {
			msg = fmt.Sprintf("assignment of pod %s/%s names node %s but the pod runs on %s", a.Spec.PodNamespace, a.Spec.Pod, a.Spec.NodeName, pod.Spec.NodeName)
		}
		out = append(out, Finding{
			Status: Warn, Object: Object("AzureAssignedIdentity", a.Namespace, a.Name),
			Message:  msg + "; mic should have removed it, so check that mic runs and leads (the controller check)",
			Evidence: []string{fmt.Sprintf("created %s ago, status %q", age.Round(time.Second), a.Status.Status)},
			Fix:      fmt.Sprintf("kubectl -n %s delete azureassignedidentity %s", a.Namespace, a.Name),
		})
	}
	if len(out) == 0 && examined > 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("%d %s belong to pods that exist on the nodes they name", examined, plural(examined, "assignment", "assignments"))})
	}
	return out
}

// checkUnusedIdentities: an AzureIdentity no binding names is never given
// to a pod, usually a binding written for another name or namespace.
func checkUnusedIdentities(f *Facts) []Finding {
	var out []Finding
	examined := 0
	for i := range f.Identities {
		id := &f.Identities[i]
		if !f.IdentityInScope(id) {
			continue
		}
		examined++
		used := false
		for j := range f.Bindings {
			b := &f.Bindings[j]
			used = used || (b.Namespace == id.Namespace && b.Spec.AzureIdentity == id.Name)
		}
		if used {
			continue
		}
		out = append(out, Finding{
			Status: Warn, Object: Object("AzureIdentity", id.Namespace, id.Name),
			Message: "no AzureIdentityBinding of its namespace names it, so no pod gets it",
			Fix: fmt.Sprintf(`echo '{"apiVersion":"aadpodidentity.k8s.io/v1","kind":"AzureIdentityBinding","metadata":{"name":"%s-binding","namespace":"%s"},"spec":{"azureIdentity":"%s","selector":"%s"}}' | kubectl apply -f -`,
				id.Name, id.Namespace, id.Name, id.Name),
		})
	}
	if len(out) == 0 && examined > 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("%d %s named by a binding", examined, plural(examined, "AzureIdentity is", "AzureIdentities are"))})
	}
	return out
}

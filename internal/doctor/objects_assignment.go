package doctor

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/controller/assign"
)

// assignmentGrace is how long mic usually needs to write an assignment, or
// the cloud worker to put an identity on a machine; a missing or waiting
// assignment younger than this is reported as a warning, not a failure.
const assignmentGrace = 30 * time.Second

// checkAssignmentState follows each assignment mic's decision calls for to
// its AzureAssignedIdentity: missing (mic is not running or failing), or
// not Assigned, with the Ready condition's reason and message, the newest
// Warning event, and, when the cloud refused, the role grant that mic's
// own message names.
func checkAssignmentState(f *Facts) []Finding {
	var out []Finding
	ok := 0
	for _, a := range decide(f).Desired {
		p := f.Pod(key(a.Pod.Namespace, a.Pod.Name))
		if p == nil || !f.PodInScope(p) {
			continue
		}
		stored := storedAssignment(f, p, a)
		if stored != nil && stored.Status.Status == podidv1.AssignedIDAssigned {
			ok++
			continue
		}
		out = append(out, assignmentFinding(f, p, a, stored))
	}
	if len(out) > 0 {
		return out
	}
	return objPass(ok, objPlural(ok, "assignment mic's bindings call for exists and is Assigned", "assignments mic's bindings call for exist and are Assigned"))
}

// storedAssignment finds a's AzureAssignedIdentity: by the name mic gives
// it, else (written by another controller version) by pod and identity.
func storedAssignment(f *Facts, p *corev1.Pod, a assign.Assignment) *podidv1.AzureAssignedIdentity {
	for i := range f.Assignments {
		if s := &f.Assignments[i]; s.Namespace == a.Namespace && s.Name == a.Name {
			return s
		}
	}
	for i := range f.Assignments {
		s := &f.Assignments[i]
		ref := s.Spec.AzureIdentityRef
		if s.Spec.PodNamespace == p.Namespace && s.Spec.Pod == p.Name && ref != nil && ref.Namespace == a.Identity.Namespace && ref.Name == a.Identity.Name {
			return s
		}
	}
	return nil
}

// assignmentFinding explains one assignment that is missing or not
// Assigned.
func assignmentFinding(f *Facts, p *corev1.Pod, a assign.Assignment, s *podidv1.AzureAssignedIdentity) Finding {
	idKey := key(a.Identity.Namespace, a.Identity.Name)
	out := Finding{Object: Object("Pod", p.Namespace, p.Name)}
	if s == nil {
		age := f.Now.Sub(p.CreationTimestamp.Time)
		out.Evidence = append(out.Evidence, fmt.Sprintf("no AzureAssignedIdentity %s for identity %s (binding %s/%s); pod created %s ago", a.Key(), idKey, a.Binding.Namespace, a.Binding.Name, age.Round(time.Second)))
		out.Evidence = append(out.Evidence, newestWarning(f, p, a, nil)...)
		if age < assignmentGrace {
			out.Status = Warn
			out.Message = fmt.Sprintf("mic has not yet assigned identity %s to the pod, created %s ago; it usually takes seconds.", idKey, age.Round(time.Second))
			return out
		}
		out.Status = Fail
		out.Message = fmt.Sprintf("mic has not assigned identity %s to the pod in %s: mic is not running or is failing.", idKey, age.Round(time.Second))
		out.Evidence, out.Fix = append(out.Evidence, controllersSeen(f)), micLogsCmd(f)
		return out
	}
	obj := Object("AzureAssignedIdentity", s.Namespace, s.Name)
	cond := meta.FindStatusCondition(s.Status.Conditions, assignstatus.ConditionReady)
	if cond == nil {
		cond = &metav1.Condition{Reason: "none", Message: "no Ready condition", LastTransitionTime: s.CreationTimestamp}
	}
	out.Evidence = append(out.Evidence, fmt.Sprintf("%s status %q, condition Ready=%s reason %s: %s", obj, s.Status.Status, cond.Status, cond.Reason, cond.Message))
	out.Evidence = append(out.Evidence, newestWarning(f, p, a, s)...)
	since := f.Now.Sub(cond.LastTransitionTime.Time).Round(time.Second)
	switch assignstatus.Reason(cond.Reason) {
	case assignstatus.CloudRefused:
		out.Status = Fail
		return cloudRefused(out, s, idKey, cond.Message)
	case assignstatus.CloudUnavailable:
		out.Status = Warn
		out.Message = fmt.Sprintf("Identity %s is not on the node's VM or VMSS yet because Azure did not answer for %s; podid retries with back-off.", idKey, since)
		out.Fix = micLogsCmd(f)
		return out
	}
	if s.Status.Status == podidv1.AssignedIDUnassigned || s.DeletionTimestamp != nil {
		out.Status = Warn
		out.Message = fmt.Sprintf("The assignment of identity %s is being removed; mic creates a new one once it is gone.", idKey)
		out.Fix = micLogsCmd(f)
		return out
	}
	out.Status = Warn
	out.Message = fmt.Sprintf("The assignment of identity %s has been %s (%s) for %s; the pod gets no token until it is Assigned.", idKey, s.Status.Status, cond.Reason, since)
	if since >= assignmentGrace {
		out.Status = Fail
		out.Message = fmt.Sprintf("The assignment of identity %s has been %s (%s) for %s: mic's cloud worker is not running or is failing.", idKey, s.Status.Status, cond.Reason, since)
		out.Evidence = append(out.Evidence, controllersSeen(f))
	}
	out.Fix = micLogsCmd(f)
	return out
}

// newestWarning is the newest Warning event on the assignment, the pod or
// the identity, as evidence; none when there is none.
func newestWarning(f *Facts, p *corev1.Pod, a assign.Assignment, s *podidv1.AzureAssignedIdentity) []string {
	var evs []corev1.Event
	if s != nil {
		evs = append(evs, f.EventsFor("AzureAssignedIdentity", s.Namespace, s.Name)...)
	}
	evs = append(evs, f.EventsFor("Pod", p.Namespace, p.Name)...)
	evs = append(evs, f.EventsFor("AzureIdentity", a.Identity.Namespace, a.Identity.Name)...)
	if len(evs) == 0 {
		return nil
	}
	newest := evs[0]
	for _, e := range evs[1:] {
		if eventTime(e).After(eventTime(newest)) {
			newest = e
		}
	}
	o := newest.InvolvedObject
	return []string{fmt.Sprintf("newest Warning event, on %s: %s: %s", Object(o.Kind, o.Namespace, o.Name), newest.Reason, newest.Message)}
}

// controllersSeen says which controllers the facts hold, as evidence for
// "mic is not running".
func controllersSeen(f *Facts) string {
	var seen []string
	for _, c := range f.Components {
		if c.Kind == Controller {
			seen = append(seen, fmt.Sprintf("%s (%s, %d/%d ready)", c.Object, c.Product, c.Ready, c.Desired))
		}
	}
	if len(seen) == 0 {
		return "no mic Deployment found in the cluster"
	}
	return "controllers found: " + fmt.Sprint(seen)
}

// micLogsCmd shows why mic is not doing its work: the logs of the first
// controller found, or how to start one when there is none.
func micLogsCmd(f *Facts) string {
	for _, c := range f.Components {
		if c.Kind == Controller {
			kind, ns, name := objectParts(c.Object)
			return fmt.Sprintf("kubectl -n %s logs %s/%s", ns, kind, name)
		}
	}
	return "podid mic --kubeconfig <kubeconfig>"
}

package assignstatus

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// Writer names a controller that writes AzureAssignedIdentity status.
type Writer string

const (
	// AssignController creates assignments and writes their first status.
	AssignController Writer = "assign"
	// CloudWorker puts node-mode identities on VMs and VMSS and reports the
	// outcome.
	CloudWorker Writer = "cloudassign"
)

// Owner is the hand-off rule: it says which controller writes the status
// of an assignment whose stored status is have. needsCloud is whether the
// identity must be put on the node's VM or VMSS (a user-assigned identity
// in node token mode; see NeedsCloud).
//
//   - Without a cloud write, the assign controller owns the status and sets
//     Assigned at once.
//   - With one, the assign controller owns a new assignment (no status yet)
//     and one that was Assigned without a cloud write (its identity has just
//     moved to node mode): it starts them at Created. Every other status
//     belongs to the cloud worker, which alone knows whether the machine
//     holds the identity.
func Owner(have podidv1.AzureAssignedIdentityStatus, needsCloud bool) Writer {
	if !needsCloud || have.Status == "" {
		return AssignController
	}
	if c := meta.FindStatusCondition(have.Conditions, ConditionReady); c != nil && c.Reason == string(Assigned) {
		return AssignController
	}
	return CloudWorker
}

// NeedsCloud reports, from a stored assignment, whether its identity must
// be on the node's VM or VMSS: the assign controller resolved the token
// mode into spec.tokenMode, and only user-assigned identities go on
// machines (the same rule as api/v1.AzureIdentity.NeedsCloudAssignment).
func NeedsCloud(a *podidv1.AzureAssignedIdentity) bool {
	ref := a.Spec.AzureIdentityRef
	return ref != nil && ref.Spec.Type == podidv1.UserAssignedMSI && a.Spec.TokenMode == podidv1.TokenModeNode
}

// Initial is the status the assign controller wants after a reconcile:
// have unchanged when the cloud worker owns it (see Owner); otherwise
// Assigned when no cloud write is needed and Created, waiting for the cloud
// worker, when one is.
func Initial(have podidv1.AzureAssignedIdentityStatus, needsCloud bool, now metav1.Time) podidv1.AzureAssignedIdentityStatus {
	if Owner(have, needsCloud) != AssignController {
		return *have.DeepCopy()
	}
	if needsCloud {
		out, _ := set(have, podidv1.AssignedIDCreated, metav1.ConditionFalse, WaitingForCloudAssignment,
			"The identity is being added to the node's VM or VMSS; the pod can get tokens once that is done.", now)
		return out
	}
	out, _ := set(have, podidv1.AssignedIDAssigned, metav1.ConditionTrue, Assigned,
		"The pod can get tokens for this identity; no cloud change is needed in this token mode.", now)
	return out
}

// OnMachine is the cloud worker's status once machine (e.g. "VMSS
// aks-pool0-vmss") holds the identity. changed reports whether the Ready
// condition changed.
func OnMachine(have podidv1.AzureAssignedIdentityStatus, machine string, now metav1.Time) (out podidv1.AzureAssignedIdentityStatus, changed bool) {
	return set(have, podidv1.AssignedIDAssigned, metav1.ConditionTrue, AssignedToMachine,
		fmt.Sprintf("The identity is on %s; the pod gets tokens through the node's IMDS.", machine), now)
}

// CloudFailure is what the cloud worker knows of a failed cloud write.
type CloudFailure struct {
	// Code is ARM's error code, e.g. LinkedAuthorizationFailed; empty when
	// ARM gave no answer.
	Code string
	// Unavailable is set when the cloud could not answer (transport error,
	// throttling, 5xx) and the worker retries as is; otherwise the cloud
	// refused and a user must act.
	Unavailable bool
	// Message says what failed and what fixes it or happens next.
	Message string
	// MachineUnknown is set when the machine could not be read, so whether
	// it holds the identity is unknown.
	MachineUnknown bool
}

// Reason is the condition reason of f: CloudUnavailable or CloudRefused.
func (f CloudFailure) Reason() Reason {
	if f.Unavailable {
		return CloudUnavailable
	}
	return CloudRefused
}

// EventReason is the reason of the Warning events about f: ARM's code when
// there is one, so that users find them by code, else the condition reason.
func (f CloudFailure) EventReason() string {
	if f.Code != "" {
		return f.Code
	}
	return string(f.Reason())
}

// Text is the condition and event message: "<code>: <message>" when ARM
// gave a code (see CodeOf), else the message.
func (f CloudFailure) Text() string {
	if f.Code == "" || strings.HasPrefix(f.Message, f.Code+": ") {
		return f.Message
	}
	return f.Code + ": " + f.Message
}

// Failed is the cloud worker's status after f: Created with f's reason and
// text. An unavailable cloud that could not even read the machine leaves an
// Assigned assignment as it is: it has not taken the identity away, and the
// pod keeps its tokens. changed reports whether the Ready condition
// changed, which is when the worker raises a Warning event.
func Failed(have podidv1.AzureAssignedIdentityStatus, f CloudFailure, now metav1.Time) (out podidv1.AzureAssignedIdentityStatus, changed bool) {
	if f.Unavailable && f.MachineUnknown && have.Status == podidv1.AssignedIDAssigned {
		return *have.DeepCopy(), false
	}
	return set(have, podidv1.AssignedIDCreated, metav1.ConditionFalse, f.Reason(), f.Text(), now)
}

// CodeOf returns ARM's error code from a status the cloud worker wrote
// after a failure, or "" when there is none.
func CodeOf(s podidv1.AzureAssignedIdentityStatus) string {
	c := meta.FindStatusCondition(s.Conditions, ConditionReady)
	if c == nil || (c.Reason != string(CloudRefused) && c.Reason != string(CloudUnavailable)) {
		return ""
	}
	code, _, ok := strings.Cut(c.Message, ": ")
	if !ok || code == "" || strings.IndexFunc(code, notCodeRune) >= 0 {
		return ""
	}
	return code
}

// notCodeRune reports runes that never occur in an ARM error code.
func notCodeRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_')
}

// set returns a copy of have with status and the Ready condition; the
// condition keeps its LastTransitionTime unless its status flips.
func set(have podidv1.AzureAssignedIdentityStatus, status string, cs metav1.ConditionStatus, r Reason, msg string, now metav1.Time) (podidv1.AzureAssignedIdentityStatus, bool) {
	out := *have.DeepCopy()
	out.Status = status
	changed := meta.SetStatusCondition(&out.Conditions, metav1.Condition{
		Type: ConditionReady, Status: cs, Reason: string(r), Message: msg, LastTransitionTime: now,
	})
	return out, changed
}

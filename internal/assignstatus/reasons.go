package assignstatus

// ConditionReady is the type of the one condition an AzureAssignedIdentity
// carries: whether its pod can get tokens for the identity.
const ConditionReady = "Ready"

// Reason is the reason of the Ready condition. The set is closed: every
// status this package builds uses one of the constants below, and no other
// code writes the condition.
type Reason string

const (
	// Assigned: the pod can get tokens for the identity, and no cloud write
	// was needed (federated or secret-backed token modes). Status Assigned.
	Assigned Reason = "Assigned"
	// WaitingForCloudAssignment: the identity must be added to the node's VM
	// or VMSS and the cloud worker has not done so yet. Status Created.
	WaitingForCloudAssignment Reason = "WaitingForCloudAssignment"
	// AssignedToMachine: the cloud worker saw the identity on the node's VM
	// or VMSS; the pod gets tokens through the node's IMDS. Status Assigned.
	AssignedToMachine Reason = "AssignedToMachine"
	// CloudRefused: ARM refused to read the machine or to add the identity,
	// and a user must act (grant a role, fix spec.resourceID). ARM's code,
	// such as AuthorizationFailed or LinkedAuthorizationFailed, starts the
	// message and is the reason of the Warning events. Status Created.
	CloudRefused Reason = "CloudRefused"
	// CloudUnavailable: ARM could not be reached or did not answer (transport
	// error, throttling, 5xx); the cloud worker retries with back-off and
	// nobody needs to act unless it lasts. Status Created.
	CloudUnavailable Reason = "CloudUnavailable"
)

// Reasons lists the closed set, in the order an assignment usually meets
// them.
var Reasons = []Reason{Assigned, WaitingForCloudAssignment, AssignedToMachine, CloudRefused, CloudUnavailable}

// Known reports whether s is one of Reasons.
func Known(s string) bool {
	for _, r := range Reasons {
		if string(r) == s {
			return true
		}
	}
	return false
}

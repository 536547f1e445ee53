// Package assignstatus owns the status of AzureAssignedIdentity objects:
// the Ready condition, its closed set of reasons, the functions that build
// each status, and the hand-off rule that says which controller writes it.
//
// Two controllers write that status and nothing else does. The assign
// controller (internal/controller/assign) creates every assignment and
// gives it its first status: Assigned at once when no cloud write is
// needed, Created and WaitingForCloudAssignment when the identity must be
// put on the node's VM or VMSS first. From then on the cloud worker
// (internal/cloudassign), which alone knows whether the machine holds the
// identity, writes AssignedToMachine, CloudRefused or CloudUnavailable.
// Owner is that rule as one function; both sides call it.
//
// Condition reasons and event reasons differ on purpose. A condition reason
// is one of the Reason constants, so that tools and alerts can rely on a
// closed set. When the cloud refuses, ARM's error code (AuthorizationFailed,
// LinkedAuthorizationFailed, ...) starts the condition message ("<code>:
// <what failed and the fix>", see CodeOf) and is the reason of the Warning
// events on the pod and the AzureIdentity (see CloudFailure.EventReason),
// so that
//
//	kubectl get events --field-selector reason=LinkedAuthorizationFailed
//
// keeps finding them, as it did with aad-pod-identity.
//
// The conditions carry no observedGeneration: the CRD has no status
// subresource, so every status write bumps the generation and the condition
// would always look stale. LastTransitionTime is kept unless the condition's
// status flips.
package assignstatus

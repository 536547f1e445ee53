// Package podindex tells the node agent which pod a request comes from and
// which identities that pod may use, from informer caches of this node's
// objects: pods (field selector spec.nodeName), AzureAssignedIdentity objects
// (label nodename), AzurePodIdentityException, AzureIdentityBinding and
// AzureIdentity objects (all namespaces; the agent's RBAC needs get, list
// and watch on each).
//
// Look-ups are index reads, never scans: pods by IP (only Pending and
// Running pods that hold their IP are indexed, not a deleted pod none of
// whose containers runs, whose IP a new pod may already have), assignments
// by pod and by identity. Every informer event closes the current change
// channel, so a request waiting for its pod or assignment wakes at once
// instead of polling.
//
// An assignment is a claim, not a grant: it is honoured only when the live
// objects justify it (vouch): its pod is on this node, is on the node and,
// when the controller recorded one (v1.PodUIDAnnotation), has the UID the
// assignment was made for, so a pod recreated under the same name does not
// inherit its predecessor's; its binding exists, selects the pod's live
// aadpodidbinding label, names its identity and may serve the pod's
// namespace by the controller's own rule (v1.BindingServes). The identity
// served is the live AzureIdentity, never the copy in the assignment.
//
// The decisions (which pods an address may name, whether an exception
// covers a pod, whether an assignment is justified and what it grants) are
// pure functions over API objects; the informers only feed them.
package podindex

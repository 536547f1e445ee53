// Package podindex tells the node agent which pod a request comes from and
// which identities that pod may use, from informer caches of this node's
// objects: pods (field selector spec.nodeName), AzureAssignedIdentity objects
// (label nodename) and AzurePodIdentityException objects.
//
// Look-ups are index reads, never scans: pods by IP (only Pending and
// Running pods are indexed), assignments by pod and by identity. Every
// informer event closes the current change channel, so a request waiting
// for its pod or assignment wakes at once instead of polling.
//
// The decisions (which pods an address may name, whether an exception
// covers a pod, what an assignment says) are pure functions over API
// objects; the informers only feed them.
package podindex

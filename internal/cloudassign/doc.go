// Package cloudassign puts node-mode identities on the VMs and VMSS behind
// the cluster's nodes, the way aad-pod-identity's MIC did, without its
// faults: one worker per VM or VMSS batches every pending add and remove
// into one GET and one PATCH per burst (at most MaxChangesPerRequest
// identities per request), honours Retry-After, backs off on throttling and
// server errors, isolates an identity the cloud refuses so the others still
// get assigned, never removes an immutable identity or one a pod still
// needs, and repairs identities someone removed by hand.
//
// The decisions (which machine a node is, what to add and remove, what an
// ARM error means and how to fix it) are pure functions in providerid.go,
// plan.go and armerrors.go; the worker and the ARM client are thin. The
// statuses it writes, and when it may write them, come from package
// assignstatus; a failed burst is logged once, with the machine and the
// cause, and every assignment it leaves waiting gets a Warning event.
package cloudassign

// Package controller assembles mic, podid's controller: a controller-runtime
// manager with Lease leader election, health and readiness probes and
// Prometheus metrics, running the controllers under internal/controller/.
//
// Today it runs the normalize controller, which rewrites manifests written
// with aad-pod-identity's older field names into canonical form. Assignment
// of identities to pods (and, in node mode, to VMs and VMSS) comes next.
package controller

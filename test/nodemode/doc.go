// Package nodemode tests mic's node mode end to end: a real apiserver and
// kwok, the embedded Azure cloud, and mic's controllers putting identities
// on the VMSS behind each node through real armcompute calls, with the
// failures of seed 004 and the faults aad-pod-identity handled badly.
package nodemode

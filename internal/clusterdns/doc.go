// Package clusterdns is the DNS server that pods on podid's real nodes use.
//
// Those pods run unmodified Azure SDK applications, which dial Azure by its
// own host names: login.microsoftonline.com, management.azure.com and
// <vault>.vault.azure.net. podid cannot change the machine's resolver or
// /etc/hosts, so each real node's pods get this server as their nameserver
// instead, on the node IP. It answers Azure's names (exact names and
// one-label wildcards such as *.vault.azure.net) with the address of the
// embedded cloud's front door, and every other name with NXDOMAIN, so that a
// resolver walking the pod's search list (ndots:5) moves on at once.
//
// It is deliberately no general resolver: it forwards nothing and watches no
// Kubernetes objects. Options.Lookup is the seam for answering more names
// (Service names) later.
package clusterdns

// Package netrules plans and applies the node's iptables rules that send
// pods' traffic for the metadata address to the agent.
//
// Plan is a pure function from the agent's address, the metadata address
// and the pods' host-side interfaces (found by internal/agent/podif; or,
// when the CNI gives none, the pod CIDRs) to the exact rules of three
// chains:
//
//   - nat PODID-METADATA, jumped to from PREROUTING for tcp to the metadata
//     address: one DNAT to the agent per pod, matching both the pod's
//     host-side interface and its IP, so a pod that spoofs another pod's
//     address leaves through its own interface and matches nothing; then
//     RETURN. A routed interface (a ptp CNI) is matched with -i; a bridge
//     port (the bridge CNI) with physdev --physdev-in, as the bridge, not
//     the port, is a bridged packet's in-interface at the IP layer. With
//     PerPod and no pods yet the chain is RETURN alone: a pod whose
//     interface is not known yet is refused, never matched by a range.
//     Pods' rules are added and deleted one by one as pods come and go
//     (Chain.Unordered), so the others keep theirs throughout.
//   - filter PODID-METADATA-GUARD, jumped to from FORWARD for the same
//     traffic: whatever was not DNATed (spoofed sources, pods the agent
//     does not know yet) is rejected with a TCP reset instead of reaching
//     the node's real IMDS. Fail closed.
//   - filter PODID-AGENT-GUARD, jumped to from INPUT for tcp to the agent's
//     port: only DNATed connections and loopback may reach the agent
//     directly, so the interface check cannot be bypassed by calling the
//     agent's address.
//
// Host-network pods and the node's own processes never traverse
// PREROUTING or FORWARD: their traffic to the metadata address goes to the
// real IMDS and is neither intercepted nor attributed to a pod.
//
// ForeignRedirects, also pure, finds what else redirects the metadata
// address in the nat table the agent observed (ObserveNAT): aad-pod-
// identity's chain aad-metadata or another DNAT in PREROUTING. The agent
// refuses to start beside them rather than compete for pods' traffic.
//
// A node programs either nf_tables or the legacy x_tables through iptables,
// and rules written through one backend are invisible to the other.
// ResolveIPTables turns the agent's --iptables into the binary to run;
// with "auto" it reads both backends (ProbeBackends, iptables-*-save) and
// ChooseBackend, pure, picks the one kubelet marked with its
// KUBE-IPTABLES-HINT chain, else the one with more rules, else nf_tables.
//
// Applier (Linux) creates the chains and repairs drift. Nothing removes
// them when the agent exits: the rules are the node's fail-closed state,
// and only RemoveAll, the uninstall step, deletes them.
package netrules

// Package podif finds each pod's host-side network interface, so the
// agent's redirect can require a pod's address to arrive from that pod's
// own interface (netrules.Pod) and a pod that spoofs another pod's address
// matches nothing.
//
// Nothing a pod controls is trusted. The bridge's forwarding database and
// the neighbour table are learnt from the packets pods send, and a pod may
// set any address or MAC on its own interfaces, so neither is read. What
// is read is the kernel's own bookkeeping, which a pod cannot change:
//
//   - the node's links (netlink RTM_GETLINK in the agent's namespace, the
//     host's): each veth (or netkit) whose peer lives in another network
//     namespace names that namespace by its ID (IFLA_LINK_NETNSID), and
//     says whether it is a bridge port (IFLA_MASTER of kind "bridge");
//   - the pods' processes: /proc/<pid>/cgroup names the pod UID (as
//     internal/agent/peer reads it) and /proc/<pid>/ns/net is the process's
//     network namespace, whose ID in the host's namespace netlink gives
//     (RTM_GETNSID). The agent needs the host PID namespace for this, as it
//     does for peer.
//
// A pod's address comes from the API server (the pod's status, which the
// kubelet fills from the CNI's answer), never from the pod's namespace.
//
// Discover is that I/O; HostInterfaces and Decide, both pure, turn what it
// found and the pods the API lists into the per-pod rules, or into the
// reason to fall back to the pod CIDRs: no per-pod interface on a CNI that
// has none, or bridge ports that iptables cannot see (br_netfilter not
// loaded).
package podif

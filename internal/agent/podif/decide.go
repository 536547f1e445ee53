package podif

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podid/podid/internal/agent/netrules"
)

// Link is one network interface of the agent's (the host's) namespace.
type Link struct {
	Index int32
	Name  string
	// Kind is the link's type (IFLA_INFO_KIND): "veth", "bridge", …; empty
	// for a plain device.
	Kind string
	// Master is the index of the device it is enslaved to (a bridge for a
	// bridge port); 0 for none.
	Master int32
	// PeerNetns is the ID, in the host's namespace, of the namespace that
	// holds the other end of a veth or netkit pair; NoNetns when that end
	// is in the host's namespace too or the link has no peer.
	PeerNetns int32
}

// NoNetns is Link.PeerNetns for a link with no peer in another namespace.
const NoNetns int32 = -1

// Interface is a pod's host-side interface.
type Interface struct {
	Name string
	// Bridged says the interface is a port of a Linux bridge.
	Bridged bool
}

// pairKinds are the link types whose peer sits in a pod's namespace. Other
// links that name a namespace (tunnels whose underlay is elsewhere) are no
// pod's interface.
var pairKinds = []string{"veth", "netkit"}

// HostInterfaces ties each pod (by UID) to the host-side interfaces whose
// peer lives in a network namespace of one of the pod's processes.
// sandboxes maps pod UIDs to the namespace IDs their processes are in. A
// namespace claimed by two pods is nobody's: the kernel does not let a pod
// enter another's namespace, so that would be a misreading, and no rule is
// better than a wrong one.
func HostInterfaces(links []Link, sandboxes map[string][]int32) map[string][]Interface {
	owner := map[int32]string{}
	shared := map[int32]bool{}
	for uid, ids := range sandboxes {
		for _, id := range ids {
			if o, ok := owner[id]; ok && o != uid {
				shared[id] = true
			}
			owner[id] = uid
		}
	}
	kind := map[int32]string{}
	for _, l := range links {
		kind[l.Index] = l.Kind
	}
	out := map[string][]Interface{}
	for _, l := range links {
		if l.PeerNetns == NoNetns || !slices.Contains(pairKinds, l.Kind) || shared[l.PeerNetns] {
			continue
		}
		uid, ok := owner[l.PeerNetns]
		if !ok {
			continue
		}
		out[uid] = append(out[uid], Interface{Name: l.Name, Bridged: l.Master != 0 && kind[l.Master] == "bridge"})
	}
	for _, ifs := range out {
		slices.SortFunc(ifs, func(a, b Interface) int { return cmp.Compare(a.Name, b.Name) })
	}
	return out
}

// Pod is a pod of the node as the API server lists it.
type Pod struct {
	UID string
	// Name is namespace/name, for logs.
	Name string
	// IPs are the pod's addresses from its status.
	IPs         []netip.Addr
	HostNetwork bool
}

// Input is what Decide decides from.
type Input struct {
	// Pods are the node's live pods.
	Pods []Pod
	// Interfaces are the pods' host-side interfaces by pod UID
	// (HostInterfaces).
	Interfaces map[string][]Interface
	// DiscoveryErr is why the interfaces could not be read, if so.
	DiscoveryErr error
	// Physdev is why iptables cannot match bridge ports (br_netfilter not
	// loaded, bridge-nf-call-iptables off); nil when it can.
	Physdev error
	// Seen says per-pod rules were planned before: the CNI gives per-pod
	// interfaces, so a pod whose interface is missing now is refused
	// rather than the whole node falling back to its CIDRs.
	Seen bool
}

// Decision is which redirect to plan.
type Decision struct {
	// PerPod is true for per-pod rules (Pods, maybe none yet); false to
	// redirect the pod CIDRs.
	PerPod bool
	Pods   []netrules.Pod
	// Keep says to keep the rules planned last: the interfaces could not
	// be read this time, and falling back would open the CIDR to spoofing.
	Keep bool
	// Reason and Message say why (Reason* constants); Message is a
	// sentence for the log.
	Reason  Reason
	Message string
	// Waiting are pods (namespace/name) with an address but no interface
	// found yet: their metadata traffic meets the guard until one is.
	Waiting []string
}

// Decide picks the redirect: per pod when the pods' host-side interfaces
// are known (and, for bridge ports, iptables can see them), else the pod
// CIDRs, saying why. It is pure.
func Decide(in Input) Decision {
	if in.DiscoveryErr != nil {
		if in.Seen {
			return Decision{PerPod: true, Keep: true, Reason: ReasonDiscoveryFailed,
				Message: fmt.Sprintf("Reading the pods' host-side interfaces failed (%v); the per-pod rules planned last stay.", in.DiscoveryErr)}
		}
		return Decision{Reason: ReasonDiscoveryFailed,
			Message: fmt.Sprintf("Reading the pods' host-side interfaces failed (%v); the pod CIDRs are redirected, so a pod could pass for another by spoofing its address.", in.DiscoveryErr)}
	}
	var (
		pods      []netrules.Pod
		waiting   []string
		addressed int
		bridged   bool
	)
	for _, p := range in.Pods {
		ips := ipv4(p.IPs)
		if p.HostNetwork || len(ips) == 0 {
			continue // no pod address to tie, or the node's own
		}
		addressed++
		ifs := in.Interfaces[p.UID]
		if len(ifs) == 0 {
			waiting = append(waiting, p.Name)
			continue
		}
		for _, i := range ifs {
			bridged = bridged || i.Bridged
			for _, ip := range ips {
				pods = append(pods, netrules.Pod{Interface: i.Name, IP: ip, Bridged: i.Bridged})
			}
		}
	}
	slices.Sort(waiting)
	switch {
	case bridged && in.Physdev != nil:
		return Decision{Reason: ReasonPhysdevUnusable,
			Message: fmt.Sprintf("Pods are on bridge ports but iptables cannot match them (%v); the pod CIDRs are redirected, so a pod could pass for another by spoofing its address. Load br_netfilter and set net.bridge.bridge-nf-call-iptables=1.", in.Physdev)}
	case len(pods) > 0 || in.Seen:
		return Decision{PerPod: true, Pods: pods, Waiting: waiting, Reason: ReasonPerPod,
			Message: "Each pod's metadata traffic is redirected only from its own host-side interface; pods whose interface is not found yet are refused."}
	case addressed == 0:
		return Decision{Reason: ReasonNoPodsYet,
			Message: "No pod with an address runs on this node yet; the pod CIDRs are redirected until the first pod's host-side interface is found."}
	default:
		return Decision{Reason: ReasonNoPodInterfaces, Waiting: waiting,
			Message: fmt.Sprintf("None of the %d pods with an address has a host-side interface found (a CNI without per-pod interfaces, or an agent without the host PID namespace or CAP_SYS_PTRACE); the pod CIDRs are redirected, so a pod could pass for another by spoofing its address.", addressed)}
	}
}

// ipv4 keeps the IPv4 addresses: the rules are iptables', not ip6tables'.
func ipv4(ips []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.Is4() && !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	return out
}

// String is the decision in one line, for tests and logs.
func (d Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s perPod=%t keep=%t", d.Reason, d.PerPod, d.Keep)
	for _, p := range d.Pods {
		fmt.Fprintf(&b, " %s@%s", p.IP, p.Interface)
		if p.Bridged {
			b.WriteString("(bridge)")
		}
	}
	if len(d.Waiting) > 0 {
		fmt.Fprintf(&b, " waiting=%s", strings.Join(d.Waiting, ","))
	}
	return b.String()
}

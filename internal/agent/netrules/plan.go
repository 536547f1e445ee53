package netrules

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Chain names.
const (
	NATChain         = "PODID-METADATA"
	ForwardGuard     = "PODID-METADATA-GUARD"
	AgentGuard       = "PODID-AGENT-GUARD"
	rejectWithReset  = "tcp-reset"
	defaultMetadata  = "169.254.169.254:80"
	maxInterfaceName = 15 // IFNAMSIZ - 1
)

// Pod is a pod's host-side interface and its address.
type Pod struct {
	Interface string
	IP        netip.Addr
	// Bridged says Interface is a port of a Linux bridge (the bridge CNI).
	// A pod's routed packets then enter the IP layer with the bridge as
	// their in-interface, so "-i" would never match; the port is matched
	// with physdev instead, which needs br_netfilter to hand bridged
	// packets to iptables (net.bridge.bridge-nf-call-iptables=1).
	Bridged bool
}

// Input is what the rules depend on.
type Input struct {
	// Agent is where the agent listens for redirected traffic.
	Agent netip.AddrPort
	// Metadata is the address pods call; zero means 169.254.169.254:80.
	Metadata netip.AddrPort
	// Pods ties each pod's address to its host-side interface. When set,
	// or when PerPod is, PodCIDRs is not used for redirection.
	Pods []Pod
	// PerPod redirects Pods alone even when there are none: pods whose
	// interface is not known yet meet the guard (refused), never a
	// source-range rule that a spoofed address could match.
	PerPod bool
	// PodCIDRs redirect by source range only, when the CNI gives no
	// interfaces; a spoofed source inside the range is then not detected.
	PodCIDRs []netip.Prefix
}

// Rule is one rule's arguments, without table, command and chain.
type Rule []string

// Chain is a chain of the plan and the rule that jumps to it.
type Chain struct {
	Table string
	Name  string
	// Hook is the built-in chain that jumps to Name, with the rule Jump
	// (which ends in "-j Name"), inserted first.
	Hook string
	Jump Rule
	// Rules are the chain's rules, in order.
	Rules []Rule
	// Unordered says the rules before the last may stand in any order
	// (each pod's DNAT matches its own address and interface). The
	// applier then adds and deletes single rules when pods come and go,
	// instead of rewriting the chain, so no pod whose rule stays is ever
	// without it.
	Unordered bool
}

// Plan is the complete set of chains.
type Plan struct {
	Chains []Chain
}

// MakePlan computes the rules for in. It is pure: same input, same plan,
// pods in a stable order.
func MakePlan(in Input) (Plan, error) {
	if !in.Metadata.IsValid() {
		in.Metadata = netip.MustParseAddrPort(defaultMetadata)
	}
	if !in.Agent.IsValid() || in.Agent.Port() == 0 {
		return Plan{}, errors.New("plan rules: the agent address needs an IP and a port")
	}
	if len(in.Pods) == 0 && len(in.PodCIDRs) == 0 && !in.PerPod {
		return Plan{}, errors.New("plan rules: give the pods' interfaces or the pod CIDRs")
	}
	pods := slices.Clone(in.Pods)
	slices.SortFunc(pods, func(a, b Pod) int {
		if c := strings.Compare(a.Interface, b.Interface); c != 0 {
			return c
		}
		return a.IP.Compare(b.IP)
	})
	// The words are in the order iptables -S prints them, so the applier
	// can tell planned rules from others by their listing.
	dnat := Rule{"-j", "DNAT", "--to-destination", in.Agent.String()}
	var nat []Rule
	for _, p := range pods {
		if p.Interface == "" || len(p.Interface) > maxInterfaceName || strings.ContainsAny(p.Interface, " /+!") || strings.HasPrefix(p.Interface, "-") || !p.IP.IsValid() {
			return Plan{}, fmt.Errorf("plan rules: pod interface %q with address %s is not usable", p.Interface, p.IP)
		}
		nat = append(nat, append(podMatch(p), dnat...))
	}
	if len(pods) == 0 && !in.PerPod {
		for _, c := range in.PodCIDRs {
			nat = append(nat, append(Rule{"-s", c.Masked().String(), "-p", "tcp"}, dnat...))
		}
	}
	nat = append(nat, Rule{"-j", "RETURN"})
	toMetadata := Rule{"-d", host(in.Metadata.Addr()), "-p", "tcp", "--dport", strconv.Itoa(int(in.Metadata.Port()))}
	toAgent := Rule{"-d", host(in.Agent.Addr()), "-p", "tcp", "--dport", strconv.Itoa(int(in.Agent.Port()))}
	reject := Rule{"-p", "tcp", "-j", "REJECT", "--reject-with", rejectWithReset}
	return Plan{Chains: []Chain{
		{Table: "nat", Name: NATChain, Hook: "PREROUTING", Jump: jump(toMetadata, NATChain), Rules: nat, Unordered: true},
		{Table: "filter", Name: ForwardGuard, Hook: "FORWARD", Jump: jump(toMetadata, ForwardGuard), Rules: []Rule{reject}},
		{Table: "filter", Name: AgentGuard, Hook: "INPUT", Jump: jump(toAgent, AgentGuard), Rules: []Rule{
			{"-i", "lo", "-j", "RETURN"},
			{"-m", "conntrack", "--ctstate", "DNAT", "-j", "RETURN"},
			reject,
		}},
	}}, nil
}

// Guard is the part of the plan that is safe beside another agent's
// redirect: the FORWARD guard alone. It refuses only metadata traffic that
// no redirect took (another agent's DNAT sends pods' traffic to INPUT, not
// FORWARD), so while another agent still serves, nothing changes for its
// pods, and the moment its redirect goes, pods are refused instead of
// reaching the node's IMDS.
func (p Plan) Guard() Plan {
	var out Plan
	for _, c := range p.Chains {
		if c.Name == ForwardGuard {
			out.Chains = append(out.Chains, c)
		}
	}
	return out
}

// podMatch matches the pod's address arriving from its own host-side
// interface: -i for a routed interface, physdev for a bridge port.
func podMatch(p Pod) Rule {
	if p.Bridged {
		return Rule{"-s", host(p.IP), "-p", "tcp", "-m", "physdev", "--physdev-in", p.Interface}
	}
	return Rule{"-s", host(p.IP), "-i", p.Interface, "-p", "tcp"}
}

func jump(match Rule, chain string) Rule {
	return append(slices.Clone(match), "-j", chain)
}

func host(a netip.Addr) string {
	return netip.PrefixFrom(a, a.BitLen()).String()
}

// String renders the plan as iptables-save-like lines, for logs and tests.
func (p Plan) String() string {
	var b strings.Builder
	for _, c := range p.Chains {
		fmt.Fprintf(&b, "*%s\n-N %s\n-I %s %s\n", c.Table, c.Name, c.Hook, strings.Join(c.Jump, " "))
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "-A %s %s\n", c.Name, strings.Join(r, " "))
		}
	}
	return b.String()
}

package netrules

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// AADChain is the nat chain aad-pod-identity's NMI redirects pods'
// metadata traffic with (jumped to from PREROUTING, DNAT to its port). Its
// NMI deletes it on SIGTERM; one that was killed leaves it behind.
const AADChain = "aad-metadata"

// NAT is what the agent reads of the node's nat table before it installs
// its own rules: enough to tell whether something else already redirects
// the metadata address. Listings are as `iptables -t nat -S chain` prints
// them.
type NAT struct {
	// Prerouting is the listing of PREROUTING.
	Prerouting []string
	// AAD is the listing of aad-pod-identity's chain; nil when the chain
	// does not exist.
	AAD []string
	// Jumped are the listings of the other chains PREROUTING jumps to for
	// the metadata address (see JumpedChains), by chain name.
	Jumped map[string][]string
}

// Foreign is a redirect of the metadata address that is not podid's.
type Foreign struct {
	// Owner names the installation that makes it, when the chain tells
	// ("aad-pod-identity"); "" when unknown.
	Owner string
	// Chain is the chain holding the redirect; PREROUTING for a rule
	// there.
	Chain string
	// Jumps are the PREROUTING rules leading to Chain, as listed ("-A
	// PREROUTING ..."); none for a rule in PREROUTING itself or for a
	// chain nothing jumps to.
	Jumps []string
	// Rules are the chain's rules that redirect, as listed; for
	// aad-pod-identity's chain, all of its rules.
	Rules []string
}

// ForeignRedirects returns every redirect of metadata in n that is not
// podid's own: aad-pod-identity's chain whenever it exists (with or without
// its jump: the NMI re-adds the jump every minute), DNAT or REDIRECT rules
// in PREROUTING for the metadata address and port, and such rules in
// another chain PREROUTING sends the metadata address to. It is pure.
//
// Only rules that name the metadata address count: a DNAT of every
// destination (port forwarding) is not a metadata redirect. azure-workload-
// identity's proxy (AZWI_PROXY_* chains) redirects in each pod's own
// network namespace, never the node's, so it is neither seen nor in the way.
func ForeignRedirects(n NAT, metadata netip.AddrPort) []Foreign {
	var out []Foreign
	if n.AAD != nil {
		out = append(out, Foreign{Owner: "aad-pod-identity", Chain: AADChain,
			Jumps: jumpsListed(n.Prerouting, AADChain), Rules: appended(n.AAD, AADChain)})
	}
	var direct []string
	for _, l := range appended(n.Prerouting, "PREROUTING") {
		if redirects(words(l, "PREROUTING"), metadata, true) {
			direct = append(direct, l)
		}
	}
	if direct != nil {
		out = append(out, Foreign{Chain: "PREROUTING", Rules: direct})
	}
	for _, chain := range JumpedChains(n.Prerouting, metadata) {
		var rules []string
		for _, l := range appended(n.Jumped[chain], chain) {
			// The jump already chose the metadata address: a rule of the
			// chain need not name it again.
			if redirects(words(l, chain), metadata, false) {
				rules = append(rules, l)
			}
		}
		if rules != nil {
			out = append(out, Foreign{Chain: chain, Jumps: jumpsListed(n.Prerouting, chain), Rules: rules})
		}
	}
	return out
}

// JumpedChains are the chains other than podid's and aad-pod-identity's
// that PREROUTING jumps to for traffic to the metadata address, in order:
// the ones whose rules the agent must read to find a redirect hidden behind
// a jump.
func JumpedChains(prerouting []string, metadata netip.AddrPort) []string {
	var out []string
	for _, l := range appended(prerouting, "PREROUTING") {
		w := words(l, "PREROUTING")
		target := value(w, "-j")
		if target == "" || target == NATChain || target == AADChain || builtinTarget(target) || slices.Contains(out, target) {
			continue
		}
		if toMetadata(w, metadata, true) {
			out = append(out, target)
		}
	}
	return out
}

// redirects reports whether a rule sends tcp to the metadata address and
// port somewhere else. needAddress asks for an explicit, not negated,
// destination that holds the address.
func redirects(w []string, metadata netip.AddrPort, needAddress bool) bool {
	switch value(w, "-j") {
	case "DNAT", "REDIRECT":
		return toMetadata(w, metadata, needAddress)
	}
	return false
}

// toMetadata reports whether a rule's matches let tcp to the metadata
// address and port through. A negated match is taken as excluding it.
func toMetadata(w []string, metadata netip.AddrPort, needAddress bool) bool {
	if negated(w, "-d") || negated(w, "--dport") || negated(w, "-p") {
		return false
	}
	if d := value(w, "-d"); d != "" {
		p, err := netip.ParsePrefix(d)
		if err != nil || !p.Contains(metadata.Addr()) {
			return false
		}
	} else if needAddress {
		return false
	}
	if p := value(w, "-p"); p != "" && p != "tcp" && p != "6" {
		return false
	}
	if port := value(w, "--dport"); port != "" && !portIn(port, metadata.Port()) {
		return false
	}
	if ports := value(w, "--dports"); ports != "" && !slices.ContainsFunc(strings.Split(ports, ","), func(p string) bool { return portIn(p, metadata.Port()) }) {
		return false
	}
	return true
}

// portIn reports whether port is spec: "80" or a range "1:1024".
func portIn(spec string, port uint16) bool {
	lo, hi, isRange := strings.Cut(spec, ":")
	if !isRange {
		hi = lo
	}
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h, err2 := strconv.ParseUint(hi, 10, 16)
	return err1 == nil && err2 == nil && uint64(port) >= l && uint64(port) <= h
}

// jumpsListed are PREROUTING's rules whose target is chain, as listed.
func jumpsListed(prerouting []string, chain string) []string {
	var out []string
	for _, l := range appended(prerouting, "PREROUTING") {
		if value(words(l, "PREROUTING"), "-j") == chain {
			out = append(out, l)
		}
	}
	return out
}

// words are a listed rule's words after "-A chain".
func words(listed, chain string) []string {
	return strings.Fields(strings.TrimPrefix(listed, "-A "+chain+" "))
}

// value is the word after flag, "" when the rule has no such flag.
func value(w []string, flag string) string {
	if i := slices.Index(w, flag); i >= 0 && i+1 < len(w) {
		return w[i+1]
	}
	return ""
}

// negated reports whether flag is preceded by "!".
func negated(w []string, flag string) bool {
	i := slices.Index(w, flag)
	return i > 0 && w[i-1] == "!"
}

func builtinTarget(t string) bool {
	switch t {
	case "ACCEPT", "DROP", "RETURN", "DNAT", "SNAT", "REDIRECT", "MASQUERADE", "MARK", "CONNMARK", "LOG", "NETMAP", "TPROXY":
		return true
	}
	return false
}

// ObserveNAT reads what ForeignRedirects needs of the node's nat table:
// PREROUTING, aad-pod-identity's chain if it exists, and the chains
// PREROUTING sends the metadata address to.
func (a *Applier) ObserveNAT(metadata netip.AddrPort) (NAT, error) {
	var n NAT
	var err error
	if n.Prerouting, err = a.ipt.List("nat", "PREROUTING"); err != nil {
		return NAT{}, fmt.Errorf("list nat/PREROUTING: %w", err)
	}
	ok, err := a.ipt.ChainExists("nat", AADChain)
	if err != nil {
		return NAT{}, fmt.Errorf("look for nat/%s: %w", AADChain, err)
	}
	if ok {
		if n.AAD, err = a.ipt.List("nat", AADChain); err != nil {
			return NAT{}, fmt.Errorf("list nat/%s: %w", AADChain, err)
		}
	}
	for _, chain := range JumpedChains(n.Prerouting, metadata) {
		rules, err := a.ipt.List("nat", chain)
		if err != nil {
			return NAT{}, fmt.Errorf("list nat/%s: %w", chain, err)
		}
		if n.Jumped == nil {
			n.Jumped = map[string][]string{}
		}
		n.Jumped[chain] = rules
	}
	return n, nil
}

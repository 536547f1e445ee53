package acr

import (
	"fmt"
	"net/netip"
	"strings"
)

// Network settings values, as ARM spells them.
const (
	AccessEnabled  = "Enabled"
	AccessDisabled = "Disabled"
	ActionAllow    = "Allow"
	ActionDeny     = "Deny"
)

// Network is a registry's network access configuration.
type Network struct {
	// PublicNetworkAccess is Enabled or Disabled.
	PublicNetworkAccess string
	// DefaultAction is Allow or Deny: what the IP rules do not match gets.
	DefaultAction string
	// IPRules are addresses or CIDR ranges allowed when DefaultAction is Deny.
	IPRules []string
}

// FirewallAllows decides whether a client at ip reaches the registry's
// public endpoint. Disabled public access refuses everyone (this cloud has
// no private endpoints); otherwise Deny lets only the IP rules through. An
// unparsable client address is refused when any restriction applies.
func FirewallAllows(n Network, ip string) bool {
	if strings.EqualFold(n.PublicNetworkAccess, AccessDisabled) {
		return false
	}
	if !strings.EqualFold(n.DefaultAction, ActionDeny) {
		return true
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, r := range n.IPRules {
		if p, err := ParseIPRule(r); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseIPRule parses an ipRules value: an IPv4 address or CIDR range, as
// ACR accepts (it has no IPv6 rules).
func ParseIPRule(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Prefix{}, fmt.Errorf("ip rule %q is not an IPv4 address or CIDR range", s)
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("ip rule %q is not an IPv4 address or CIDR range", s)
	}
	return p.Masked(), nil
}

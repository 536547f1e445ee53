package kwok

import (
	"net/netip"
	"testing"
)

func TestLayoutGivesEveryNodeItsOwnLoopbackRanges(t *testing.T) {
	seenCIDR := map[netip.Prefix]int{}
	seenIP := map[netip.Addr]int{}
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	for i := 0; i < MaxNodes; i++ {
		cidr, ip, err := Layout(i)
		if err != nil {
			t.Fatalf("Layout(%d): %v", i, err)
		}
		if !loopback.Contains(cidr.Addr()) || !loopback.Contains(ip) {
			t.Fatalf("Layout(%d) = %v, %v: not on loopback", i, cidr, ip)
		}
		if j, dup := seenCIDR[cidr]; dup {
			t.Fatalf("nodes %d and %d share pod CIDR %v", j, i, cidr)
		}
		if j, dup := seenIP[ip]; dup {
			t.Fatalf("nodes %d and %d share internal IP %v", j, i, ip)
		}
		// Distinct prefixes of one length that are aligned cannot overlap.
		if cidr.Bits() != 20 || cidr.Masked() != cidr {
			t.Fatalf("pod CIDR %v of node %d is not an aligned /20", cidr, i)
		}
		if cidr.Contains(ip) {
			t.Fatalf("node %d's internal IP %v lies in its pod CIDR %v", i, ip, cidr)
		}
		seenCIDR[cidr], seenIP[ip] = i, i
	}
	if _, _, err := Layout(MaxNodes); err == nil {
		t.Fatalf("Layout(%d) succeeded; want an error past the last node", MaxNodes)
	}
}

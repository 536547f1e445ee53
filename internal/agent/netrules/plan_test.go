package netrules

import (
	"net/netip"
	"strings"
	"testing"
)

func TestMakePlan(t *testing.T) {
	agent := netip.MustParseAddrPort("10.240.0.4:2579")
	guards := `*filter
-N PODID-METADATA-GUARD
-I FORWARD -d 169.254.169.254/32 -p tcp --dport 80 -j PODID-METADATA-GUARD
-A PODID-METADATA-GUARD -p tcp -j REJECT --reject-with tcp-reset
*filter
-N PODID-AGENT-GUARD
-I INPUT -d 10.240.0.4/32 -p tcp --dport 2579 -j PODID-AGENT-GUARD
-A PODID-AGENT-GUARD -i lo -j RETURN
-A PODID-AGENT-GUARD -m conntrack --ctstate DNAT -j RETURN
-A PODID-AGENT-GUARD -p tcp -j REJECT --reject-with tcp-reset
`
	cases := map[string]struct {
		in      Input
		want    string // exact plan
		wantErr string
	}{
		"each pod is redirected only from its own interface with its own address": {
			in: Input{Agent: agent, Pods: []Pod{
				{Interface: "veth2", IP: netip.MustParseAddr("10.244.0.12")},
				{Interface: "veth1", IP: netip.MustParseAddr("10.244.0.11")},
			}, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/24")}},
			want: `*nat
-N PODID-METADATA
-I PREROUTING -d 169.254.169.254/32 -p tcp --dport 80 -j PODID-METADATA
-A PODID-METADATA -s 10.244.0.11/32 -i veth1 -p tcp -j DNAT --to-destination 10.240.0.4:2579
-A PODID-METADATA -s 10.244.0.12/32 -i veth2 -p tcp -j DNAT --to-destination 10.240.0.4:2579
-A PODID-METADATA -j RETURN
` + guards},
		"without interfaces the pod CIDR is redirected": {
			in: Input{Agent: agent, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.7/24")}},
			want: `*nat
-N PODID-METADATA
-I PREROUTING -d 169.254.169.254/32 -p tcp --dport 80 -j PODID-METADATA
-A PODID-METADATA -s 10.244.0.0/24 -p tcp -j DNAT --to-destination 10.240.0.4:2579
-A PODID-METADATA -j RETURN
` + guards},
		"a bridge port is matched with physdev, a routed interface with -i": {
			in: Input{Agent: agent, Pods: []Pod{
				{Interface: "veth2", IP: netip.MustParseAddr("10.244.0.12"), Bridged: true},
				{Interface: "cali1", IP: netip.MustParseAddr("10.244.0.11")},
			}, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/24")}},
			want: `*nat
-N PODID-METADATA
-I PREROUTING -d 169.254.169.254/32 -p tcp --dport 80 -j PODID-METADATA
-A PODID-METADATA -s 10.244.0.11/32 -i cali1 -p tcp -j DNAT --to-destination 10.240.0.4:2579
-A PODID-METADATA -s 10.244.0.12/32 -p tcp -m physdev --physdev-in veth2 -j DNAT --to-destination 10.240.0.4:2579
-A PODID-METADATA -j RETURN
` + guards},
		"per pod with no pod known yet redirects nothing, not the CIDR": {
			in: Input{Agent: agent, PerPod: true, PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/24")}},
			want: `*nat
-N PODID-METADATA
-I PREROUTING -d 169.254.169.254/32 -p tcp --dport 80 -j PODID-METADATA
-A PODID-METADATA -j RETURN
` + guards},
		"an iptables wildcard interface is refused": {
			in: Input{Agent: agent, Pods: []Pod{{Interface: "veth+", IP: netip.MustParseAddr("10.244.0.11")}}}, wantErr: "not usable"},
		"no pods and no CIDR is refused":      {in: Input{Agent: agent}, wantErr: "interfaces or the pod CIDRs"},
		"an agent address without port fails": {in: Input{Agent: netip.AddrPortFrom(agent.Addr(), 0), PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, wantErr: "port"},
		"an interface name with a space is refused": {
			in: Input{Agent: agent, Pods: []Pod{{Interface: "veth 1", IP: netip.MustParseAddr("10.244.0.11")}}}, wantErr: "not usable"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := MakePlan(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tc.want {
				t.Fatalf("plan\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// Beside another agent's redirect only the FORWARD guard may be installed:
// no redirect of podid's, and no INPUT guard on a port the other agent may
// be serving.
func TestGuardIsTheForwardGuardAlone(t *testing.T) {
	p, err := MakePlan(Input{Agent: netip.MustParseAddrPort("10.240.0.4:2579"), PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/24")}})
	if err != nil {
		t.Fatal(err)
	}
	g := p.Guard()
	if len(g.Chains) != 1 || g.Chains[0].Table != "filter" || g.Chains[0].Name != ForwardGuard || g.Chains[0].Hook != "FORWARD" {
		t.Fatalf("Guard() =\n%s\nwant the filter chain %s jumped to from FORWARD alone", g, ForwardGuard)
	}
}

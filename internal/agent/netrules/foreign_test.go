package netrules

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestForeignRedirects(t *testing.T) {
	const (
		aadJump = "-A PREROUTING -j aad-metadata"
		aadDNAT = "-A aad-metadata ! -s 127.0.0.1/32 -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 127.0.0.1:2579"
		aadRet  = "-A aad-metadata -j RETURN"
		ours    = "-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j " + NATChain
		kube    = `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`
	)
	metadata := netip.MustParseAddrPort("169.254.169.254:80")
	cases := map[string]struct {
		nat  NAT
		want string // fmt of the []Foreign found
	}{
		"a node with only podid's and kube-proxy's rules has no foreign redirect": {
			nat:  NAT{Prerouting: []string{"-P PREROUTING ACCEPT", ours, kube}},
			want: "[]",
		},
		"aad-pod-identity's chain with its jump is named with both": {
			nat:  NAT{Prerouting: []string{"-P PREROUTING ACCEPT", aadJump, kube}, AAD: []string{"-N aad-metadata", aadDNAT, aadRet}},
			want: fmt.Sprint([]Foreign{{Owner: "aad-pod-identity", Chain: AADChain, Jumps: []string{aadJump}, Rules: []string{aadDNAT, aadRet}}}),
		},
		"aad-pod-identity's chain without a jump still counts: its NMI re-adds the jump": {
			nat:  NAT{Prerouting: []string{"-P PREROUTING ACCEPT"}, AAD: []string{"-N aad-metadata", aadDNAT, aadRet}},
			want: fmt.Sprint([]Foreign{{Owner: "aad-pod-identity", Chain: AADChain, Rules: []string{aadDNAT, aadRet}}}),
		},
		"an empty aad-metadata chain still counts": {
			nat:  NAT{AAD: []string{"-N aad-metadata"}},
			want: fmt.Sprint([]Foreign{{Owner: "aad-pod-identity", Chain: AADChain}}),
		},
		"a DNAT of the metadata address in PREROUTING is named": {
			nat:  NAT{Prerouting: []string{"-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.240.0.4:8080"}},
			want: fmt.Sprint([]Foreign{{Chain: "PREROUTING", Rules: []string{"-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.240.0.4:8080"}}}),
		},
		"a REDIRECT of every port of the metadata address is named": {
			nat:  NAT{Prerouting: []string{"-A PREROUTING -d 169.254.169.254/32 -j REDIRECT --to-ports 8080"}},
			want: fmt.Sprint([]Foreign{{Chain: "PREROUTING", Rules: []string{"-A PREROUTING -d 169.254.169.254/32 -j REDIRECT --to-ports 8080"}}}),
		},
		"a DNAT of a link-local range holding the address, multiport, is named": {
			nat:  NAT{Prerouting: []string{"-A PREROUTING -d 169.254.0.0/16 -p tcp -m multiport --dports 53,80 -j DNAT --to-destination 10.0.0.1"}},
			want: fmt.Sprint([]Foreign{{Chain: "PREROUTING", Rules: []string{"-A PREROUTING -d 169.254.0.0/16 -p tcp -m multiport --dports 53,80 -j DNAT --to-destination 10.0.0.1"}}}),
		},
		"a DNAT of another port of the metadata address is not in the way": {
			nat:  NAT{Prerouting: []string{"-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.0.0.1"}},
			want: "[]",
		},
		"a DNAT of udp is not in the way": {
			nat:  NAT{Prerouting: []string{"-A PREROUTING -d 169.254.169.254/32 -p udp -m udp --dport 80 -j DNAT --to-destination 10.0.0.1"}},
			want: "[]",
		},
		"a DNAT excluding the metadata address is not in the way": {
			nat:  NAT{Prerouting: []string{"-A PREROUTING ! -d 169.254.169.254/32 -p tcp -j DNAT --to-destination 10.0.0.1"}},
			want: "[]",
		},
		"port forwarding of every destination is not a metadata redirect": {
			nat:  NAT{Prerouting: []string{"-A PREROUTING -i eth0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2"}},
			want: "[]",
		},
		"a DNAT behind a jump for the metadata address is named with the jump": {
			nat: NAT{
				Prerouting: []string{"-A PREROUTING -d 169.254.169.254/32 -p tcp -j IMDS-PROXY", kube},
				Jumped:     map[string][]string{"IMDS-PROXY": {"-N IMDS-PROXY", "-A IMDS-PROXY -s 10.0.0.0/8 -j DNAT --to-destination 10.0.0.1:9000"}},
			},
			want: fmt.Sprint([]Foreign{{Chain: "IMDS-PROXY", Jumps: []string{"-A PREROUTING -d 169.254.169.254/32 -p tcp -j IMDS-PROXY"},
				Rules: []string{"-A IMDS-PROXY -s 10.0.0.0/8 -j DNAT --to-destination 10.0.0.1:9000"}}}),
		},
		"a chain jumped to for the metadata address that only accepts is not in the way": {
			nat: NAT{
				Prerouting: []string{"-A PREROUTING -d 169.254.169.254/32 -j AUDIT-IMDS"},
				Jumped:     map[string][]string{"AUDIT-IMDS": {"-N AUDIT-IMDS", "-A AUDIT-IMDS -j RETURN"}},
			},
			want: "[]",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := fmt.Sprint(ForeignRedirects(tc.nat, metadata)); got != tc.want {
				t.Fatalf("ForeignRedirects =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestJumpedChainsSkipsKubeProxyAndOwnChains(t *testing.T) {
	prerouting := []string{
		"-P PREROUTING ACCEPT",
		`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
		"-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j " + NATChain,
		"-A PREROUTING -j " + AADChain,
		"-A PREROUTING -d 169.254.169.254/32 -j IMDS-PROXY",
		"-A PREROUTING -d 169.254.169.254/32 -p tcp -j IMDS-PROXY",
	}
	got := JumpedChains(prerouting, netip.MustParseAddrPort("169.254.169.254:80"))
	if fmt.Sprint(got) != "[IMDS-PROXY]" {
		t.Fatalf("JumpedChains = %v, want only IMDS-PROXY, once", got)
	}
}

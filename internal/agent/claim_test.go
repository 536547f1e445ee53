package agent

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/agent/nodelock"
)

// aad-pod-identity's NMI's rules, as `iptables -t nat -S` lists them.
var (
	aadJump  = "-A PREROUTING -j aad-metadata"
	aadChain = []string{"-N aad-metadata",
		"-A aad-metadata ! -s 127.0.0.1/32 -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 127.0.0.1:2579",
		"-A aad-metadata -j RETURN"}
	ownJump = "-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j " + netrules.NATChain
)

func TestRefusal(t *testing.T) {
	otherAgent := &nodelock.HeldError{Path: "/run/podid/nmi.lock", Holder: nodelock.Holder{
		PID: 4242, Address: "10.240.0.4:2580", Pod: "kube-system/other-nmi-x7k2p", PodUID: "0b5f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c"}}
	cases := map[string]struct {
		in claimInput
		// want are phrases the refusal must hold, in order; none means
		// the agent starts.
		want []string
		// not are phrases it must not hold.
		not []string
	}{
		"a node with only podid's own rules is the agent's": {
			in: claimInput{NAT: netrules.NAT{Prerouting: []string{"-P PREROUTING ACCEPT", ownJump}}},
		},
		"aad-pod-identity's chain and jump: name it, uninstall it, or remove a stale chain jump first": {
			in: claimInput{NAT: netrules.NAT{Prerouting: []string{ownJump, aadJump}, AAD: aadChain}},
			want: []string{
				"aad-pod-identity's NMI owns the metadata redirect on this node (nat chain aad-metadata, jumped to from PREROUTING by \"-A PREROUTING -j aad-metadata\"",
				"--to-destination 127.0.0.1:2579",
				"`helm uninstall aad-pod-identity -n <namespace>`",
				"`kubectl -n default delete daemonset/nmi deployment/mic`, not `kubectl delete -f` of that file, which deletes the CRDs",
				"removes the chain when it stops (SIGTERM)",
				"`iptables -t nat -D PREROUTING -j aad-metadata; iptables -t nat -F aad-metadata; iptables -t nat -X aad-metadata`",
			},
			not: []string{"another podid agent"},
		},
		"aad-pod-identity's chain without its jump: no jump to delete": {
			in: claimInput{NAT: netrules.NAT{AAD: aadChain}},
			want: []string{
				"(nat chain aad-metadata, not jumped to from PREROUTING at the moment",
				"`iptables -t nat -F aad-metadata; iptables -t nat -X aad-metadata`",
			},
			not: []string{"-D PREROUTING"},
		},
		"another DNAT of the metadata address is printed with the command that deletes it": {
			in: claimInput{NAT: netrules.NAT{Prerouting: []string{ownJump, "-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.240.0.4:8080"}}},
			want: []string{
				"another program redirects the metadata address on this node (nat PREROUTING rule \"-A PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.240.0.4:8080\")",
				"`iptables -t nat -D PREROUTING -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.240.0.4:8080`",
			},
			not: []string{"aad-pod-identity"},
		},
		"another podid agent holding the lock is named with PID, address and pod, and the fix": {
			in: claimInput{Held: otherAgent, Wait: 30 * time.Second},
			want: []string{
				"another podid agent owns the metadata redirect on this node: it holds the node lock /run/podid/nmi.lock",
				"PID 4242, serving 10.240.0.4:2580, pod kube-system/other-nmi-x7k2p, UID 0b5f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c",
				"did not release it within 30s",
				"`helm uninstall <release> -n <namespace>`",
			},
		},
		"a held lock and aad-pod-identity: both are named": {
			in:   claimInput{Held: otherAgent, NAT: netrules.NAT{AAD: aadChain}},
			want: []string{"another podid agent", "PID 4242", "aad-pod-identity's NMI"},
			not:  []string{"did not release it within"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.in.Metadata = netip.MustParseAddrPort("169.254.169.254:80")
			err := refusal(tc.in)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("not refused")
			}
			msg, rest := err.Error(), err.Error()
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("refusal lacks (after the phrases before it) %q:\n%s", w, msg)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Fatalf("refusal holds %q:\n%s", n, msg)
				}
			}
		})
	}
}

package podif

import (
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestHostInterfaces(t *testing.T) {
	links := []Link{
		{Index: 1, Name: "lo", PeerNetns: NoNetns},
		{Index: 2, Name: "cni0", Kind: "bridge", PeerNetns: NoNetns},
		{Index: 3, Name: "veth-a", Kind: "veth", Master: 2, PeerNetns: 0},
		{Index: 4, Name: "veth-b", Kind: "veth", Master: 2, PeerNetns: 1},
		{Index: 5, Name: "cali-c", Kind: "veth", PeerNetns: 2},
		{Index: 6, Name: "bond0", Kind: "bond", PeerNetns: NoNetns},
		{Index: 7, Name: "veth-d", Kind: "veth", Master: 6, PeerNetns: 3},
		{Index: 8, Name: "vxlan0", Kind: "vxlan", PeerNetns: 4},
		{Index: 9, Name: "veth-e", Kind: "veth", PeerNetns: 5},
		{Index: 10, Name: "nk-f", Kind: "netkit", PeerNetns: 6},
	}
	cases := map[string]struct {
		sandboxes map[string][]int32
		want      string // uid=iface[(bridge)] sorted
	}{
		"a bridge port is bridged, a routed veth is not": {
			sandboxes: map[string][]int32{"a": {0}, "c": {2}},
			want:      "a=veth-a(bridge) c=cali-c"},
		"a port of a device other than a bridge is not bridged": {
			sandboxes: map[string][]int32{"d": {3}},
			want:      "d=veth-d"},
		"a tunnel whose underlay is in the pod's namespace is no pod interface": {
			sandboxes: map[string][]int32{"x": {4}},
			want:      ""},
		"a netkit pair is a pod interface": {
			sandboxes: map[string][]int32{"f": {6}},
			want:      "f=nk-f"},
		"a namespace two pods claim belongs to neither": {
			sandboxes: map[string][]int32{"a": {0}, "b": {0, 1}},
			want:      "b=veth-b(bridge)"},
		"a pod in several namespaces (one it made) keeps the one a host link reaches": {
			sandboxes: map[string][]int32{"e": {5, 42}},
			want:      "e=veth-e"},
		"a namespace no pod process is in maps to nobody": {
			sandboxes: map[string][]int32{},
			want:      ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := HostInterfaces(links, tc.sandboxes)
			var words []string
			for _, uid := range slices.Sorted(maps.Keys(got)) {
				for _, i := range got[uid] {
					w := uid + "=" + i.Name
					if i.Bridged {
						w += "(bridge)"
					}
					words = append(words, w)
				}
			}
			if s := strings.Join(words, " "); s != tc.want {
				t.Fatalf("HostInterfaces = %q, want %q", s, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	ip := netip.MustParseAddr
	podA := Pod{UID: "a", Name: "ns/a", IPs: []netip.Addr{ip("10.244.0.11"), ip("fd00::11")}}
	podB := Pod{UID: "b", Name: "ns/b", IPs: []netip.Addr{ip("10.244.0.12")}}
	pending := Pod{UID: "p", Name: "ns/pending"}
	host := Pod{UID: "h", Name: "kube-system/h", HostNetwork: true, IPs: []netip.Addr{ip("10.240.0.4")}}
	bridged := map[string][]Interface{"a": {{Name: "veth-a", Bridged: true}}, "b": {{Name: "veth-b", Bridged: true}}}
	routed := map[string][]Interface{"a": {{Name: "cali-a"}}}
	noBrNetfilter := errors.New("br_netfilter is not loaded")
	cases := map[string]struct {
		in   Input
		want string // Decision.String()
	}{
		"bridge ports with physdev usable are matched per pod": {
			in:   Input{Pods: []Pod{podA, podB, host, pending}, Interfaces: bridged},
			want: "PerPodInterfaces perPod=true keep=false 10.244.0.11@veth-a(bridge) 10.244.0.12@veth-b(bridge)"},
		"routed interfaces need no physdev": {
			in:   Input{Pods: []Pod{podA}, Interfaces: routed, Physdev: noBrNetfilter},
			want: "PerPodInterfaces perPod=true keep=false 10.244.0.11@cali-a"},
		"bridge ports without br_netfilter fall back to the CIDRs": {
			in:   Input{Pods: []Pod{podA, podB}, Interfaces: bridged, Physdev: noBrNetfilter},
			want: "PhysdevUnusable perPod=false keep=false"},
		"a pod whose interface is not found yet waits at the guard": {
			in:   Input{Pods: []Pod{podA, podB}, Interfaces: routed},
			want: "PerPodInterfaces perPod=true keep=false 10.244.0.11@cali-a waiting=ns/b"},
		"pods with addresses and no interface at all fall back to the CIDRs": {
			in:   Input{Pods: []Pod{podA, podB, host}, Interfaces: map[string][]Interface{}},
			want: "NoPodInterfaces perPod=false keep=false waiting=ns/a,ns/b"},
		"once per-pod rules were planned, a missing interface never falls back": {
			in:   Input{Pods: []Pod{podB}, Interfaces: routed, Seen: true},
			want: "PerPodInterfaces perPod=true keep=false waiting=ns/b"},
		"a node with no addressed pod redirects its CIDRs until one appears": {
			in:   Input{Pods: []Pod{host, pending}},
			want: "NoPodsYet perPod=false keep=false"},
		"the last node pod gone after per-pod rules keeps per pod, with none": {
			in:   Input{Pods: nil, Seen: true},
			want: "PerPodInterfaces perPod=true keep=false"},
		"a failed discovery before any per-pod rule falls back": {
			in:   Input{Pods: []Pod{podA}, DiscoveryErr: errors.New("netlink: permission denied")},
			want: "DiscoveryFailed perPod=false keep=false"},
		"a failed discovery after per-pod rules keeps them": {
			in:   Input{Pods: []Pod{podA}, DiscoveryErr: errors.New("netlink: permission denied"), Seen: true},
			want: "DiscoveryFailed perPod=true keep=true"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := Decide(tc.in)
			if got := d.String(); got != tc.want {
				t.Fatalf("Decide =\n%s\nwant\n%s", got, tc.want)
			}
			if d.Message == "" {
				t.Fatal("no message")
			}
		})
	}
}

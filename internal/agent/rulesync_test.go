package agent

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/agent/podif"
)

// fakeNode is a fake node for ruleSource: its pods, links and the pods'
// namespaces, as podif.Discover would find them.
type fakeNode struct {
	mu      sync.Mutex
	pods    []podif.Pod
	found   podif.Found
	discErr error
}

func (n *fakeNode) list() []podif.Pod {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]podif.Pod(nil), n.pods...)
}

func (n *fakeNode) discover() (podif.Found, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.found // a copy, as each discovery reads the node afresh
	f.Links, f.Sandboxes = slices.Clone(f.Links), maps.Clone(f.Sandboxes)
	return f, n.discErr
}

// addPod puts pod uid with address ip on bridge port iface (namespace ID
// nsid).
func (n *fakeNode) addPod(uid, ip, iface string, nsid int32) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pods = append(n.pods, podif.Pod{UID: uid, Name: "default/" + uid, IPs: []netip.Addr{netip.MustParseAddr(ip)}})
	if iface == "" {
		return
	}
	if len(n.found.Links) == 0 {
		n.found.Links = []podif.Link{{Index: 1, Name: "cni0", Kind: "bridge", PeerNetns: podif.NoNetns}}
	}
	n.found.Links = append(n.found.Links, podif.Link{Index: int32(len(n.found.Links) + 1), Name: iface, Kind: "veth", Master: 1, PeerNetns: nsid})
	if n.found.Sandboxes == nil {
		n.found.Sandboxes = map[string][]int32{}
	}
	n.found.Sandboxes[uid] = []int32{nsid}
}

func testSource(n *fakeNode, logs *bytes.Buffer) *ruleSource {
	return &ruleSource{
		base: netrules.Input{Agent: netip.MustParseAddrPort("10.244.0.1:2579"),
			PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/24")}},
		pods: n.list, discover: n.discover,
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// natRules are the plan's nat rules, one per line.
func natRules(p netrules.Plan) string {
	var out []string
	for _, c := range p.Chains {
		if c.Table == "nat" {
			for _, r := range c.Rules {
				out = append(out, strings.Join(r, " "))
			}
		}
	}
	return strings.Join(out, "\n")
}

const dnat = " -j DNAT --to-destination 10.244.0.1:2579"

func TestRuleSourceFallsBackToThePodCIDRAndSaysWhy(t *testing.T) {
	n := &fakeNode{}
	n.addPod("a", "10.244.0.11", "", 0) // running, but no interface of its found
	var logs bytes.Buffer
	src := testSource(n, &logs)
	for range 3 {
		p, soon, err := src.plan()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := natRules(p), "-s 10.244.0.0/24 -p tcp"+dnat+"\n-j RETURN"; got != want {
			t.Fatalf("nat rules\n%s\nwant\n%s", got, want)
		}
		if soon {
			t.Fatal("a fallback asked to plan again soon")
		}
	}
	if c := strings.Count(logs.String(), "metadata redirect chosen"); c != 1 || !strings.Contains(logs.String(), "reason=NoPodInterfaces") {
		t.Fatalf("want the fallback logged once with its reason; logs:\n%s", logs.String())
	}
}

func TestRuleSourceTiesEachPodToItsInterface(t *testing.T) {
	n := &fakeNode{}
	n.addPod("a", "10.244.0.11", "veth-a", 0)
	n.addPod("b", "10.244.0.12", "veth-b", 1)
	var logs bytes.Buffer
	src := testSource(n, &logs)
	p, _, err := src.plan()
	if err != nil {
		t.Fatal(err)
	}
	want := "-s 10.244.0.11/32 -p tcp -m physdev --physdev-in veth-a" + dnat + "\n-s 10.244.0.12/32 -p tcp -m physdev --physdev-in veth-b" + dnat + "\n-j RETURN"
	if got := natRules(p); got != want {
		t.Fatalf("nat rules\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(logs.String(), "reason=PerPodInterfaces") {
		t.Fatalf("logs:\n%s", logs.String())
	}

	// A new pod whose interface is not found yet is refused (no rule, no
	// CIDR) and the source asks to look again soon.
	n.addPod("c", "10.244.0.13", "", 0)
	p, soon, err := src.plan()
	if err != nil {
		t.Fatal(err)
	}
	if got := natRules(p); got != want || !soon {
		t.Fatalf("with pod c waiting: soon=%t, nat rules\n%s\nwant\n%s", soon, got, want)
	}
	if !strings.Contains(logs.String(), "pods refused until their host-side interface is found") {
		t.Fatalf("the waiting pod was not logged:\n%s", logs.String())
	}

	// Discovery failing now keeps the per-pod rules: falling back would
	// let a pod pass for another.
	n.discErr = errors.New("netlink: operation not permitted")
	p, _, err = src.plan()
	if err != nil {
		t.Fatal(err)
	}
	if got := natRules(p); got != want {
		t.Fatalf("after a failed discovery, nat rules\n%s\nwant the last per-pod rules\n%s", got, want)
	}

	// br_netfilter unloaded: bridge ports cannot be matched, so the CIDR.
	n.discErr = nil
	n.found.Physdev = errors.New("br_netfilter is not loaded")
	p, _, err = src.plan()
	if err != nil {
		t.Fatal(err)
	}
	if got := natRules(p); got != "-s 10.244.0.0/24 -p tcp"+dnat+"\n-j RETURN" {
		t.Fatalf("without physdev, nat rules\n%s", got)
	}
	if !strings.Contains(logs.String(), "reason=PhysdevUnusable") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// A pod that starts gets its rule on the pod watch's signal, long before
// the periodic repair; a signal that changes nothing applies nothing.
func TestRuleLoopAppliesAPodsRuleOnItsChange(t *testing.T) {
	n := &fakeNode{}
	n.addPod("a", "10.244.0.11", "veth-a", 0)
	var logs bytes.Buffer
	applied := make(chan netrules.Plan, 16)
	changed := make(chan struct{}, 1)
	var ok bool
	loop := &ruleLoop{src: testSource(n, &logs), changed: changed, interval: time.Hour,
		log: slog.New(slog.NewTextHandler(&logs, nil)), ok: func(b bool) { ok = b },
		apply: func(p netrules.Plan) ([]string, error) { applied <- p; return nil, nil }}
	soon := loop.sync(true)
	if first := <-applied; !strings.Contains(natRules(first), "veth-a") || !ok {
		t.Fatalf("first sync: ok=%t\n%s", ok, first)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); loop.run(ctx, soon) }()
	defer func() { cancel(); <-done }()

	changed <- struct{}{} // an update that changes nothing
	select {
	case p := <-applied:
		t.Fatalf("an unchanged plan was applied again:\n%s", p)
	case <-time.After(3 * podChangeDelay):
	}

	n.addPod("b", "10.244.0.12", "veth-b", 1)
	start := time.Now()
	changed <- struct{}{}
	select {
	case p := <-applied:
		if !strings.Contains(natRules(p), "-s 10.244.0.12/32 -p tcp -m physdev --physdev-in veth-b") {
			t.Fatalf("applied after pod b started:\n%s", p)
		}
		t.Logf("pod b's rule applied %s after its change", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("pod b's rule was not applied after its change")
	}
}

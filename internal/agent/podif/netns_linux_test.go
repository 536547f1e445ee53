//go:build linux

package podif

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// The network-namespace test builds a node namespace with two pod
// namespaces, A and B, on veth pairs: once as ports of a Linux bridge (the
// bridge CNI of podid's real node) and once routed (a ptp CNI, e.g.
// Calico's). Each pod namespace has a real process in a cgroup named like
// a pod's (…/kubepods/pod<uid>), so Discover finds the pods as it does on
// a node: through /proc, cgroups, netlink. A stand-in agent in the node
// namespace (this test binary, re-executed) discovers, decides, applies the
// plan and serves; the node routes 169.254.169.254 to an IMDS stand-in
// behind it, so whatever the rules let through would reach it.
//
// Pod B then sends a SYN to 169.254.169.254:80 from pod A's address over
// its own interface. rp_filter is off in the node, so nothing but the rules
// stops it: pod A's DNAT rule must not count it, the forward guard's
// REJECT must, and neither the stand-in agent nor the IMDS may see it.
// Last, the helper swaps in the pod-CIDR rule (the fallback) and the same
// spoof is DNATed by it, which shows the spoofed SYN does travel this
// topology and the per-pod rules are what stopped it.

const (
	helperEnv = "PODID_PODIF_HELPER"
	imdsEnv   = "PODID_PODIF_IMDS"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper())
	}
	if os.Getenv(imdsEnv) != "" {
		os.Exit(runIMDS())
	}
	os.Exit(m.Run())
}

// runIMDS answers on 169.254.169.254:80 and prints one line per request.
func runIMDS() int {
	ln, err := net.Listen("tcp", "169.254.169.254:80")
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println("ready")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("request from", r.RemoteAddr)
		fmt.Fprint(w, "node IMDS token")
	}))
	return 1
}

// runHelper is the node side: Discover, Decide, plan and apply, serve as
// the agent (printing "request from IP" for each request), print "plan
// <decision>" and "ready". On the stdin line "cidr" it applies the
// pod-CIDR plan instead; on stdin EOF it removes every rule.
func runHelper() int {
	agent := netip.MustParseAddrPort(os.Getenv("AGENT"))
	var pods []Pod
	for _, p := range strings.Split(os.Getenv("PODS"), ",") {
		uid, ip, _ := strings.Cut(p, "=")
		pods = append(pods, Pod{UID: uid, Name: "test/" + uid, IPs: []netip.Addr{netip.MustParseAddr(ip)}})
	}
	found, err := Discover("/proc")
	d := Decide(Input{Pods: pods, Interfaces: found.Interfaces(), DiscoveryErr: err, Physdev: found.Physdev})
	plan, err := netrules.MakePlan(netrules.Input{Agent: agent, Pods: d.Pods, PerPod: d.PerPod,
		PodCIDRs: []netip.Prefix{netip.MustParsePrefix(os.Getenv("CIDR"))}})
	if err != nil {
		fmt.Println("plan:", err)
		return 1
	}
	a, err := netrules.NewApplier(netrules.IPTablesOnPath)
	if err != nil {
		fmt.Println("applier:", err)
		return 1
	}
	if _, err := a.Sync(plan); err != nil {
		fmt.Println("sync:", err)
		return 1
	}
	ln, err := net.Listen("tcp", agent.String())
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	var out sync.Mutex
	say := func(format string, args ...any) { out.Lock(); defer out.Unlock(); fmt.Printf(format+"\n", args...) }
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			say("request from %s", host)
			fmt.Fprintf(w, "token for %s", host)
		}))
	}()
	say("plan %s", d)
	say("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "cidr" {
			cidr, err := netrules.MakePlan(netrules.Input{Agent: agent, PodCIDRs: []netip.Prefix{netip.MustParsePrefix(os.Getenv("CIDR"))}})
			if err == nil {
				_, err = a.Sync(cidr)
			}
			if err != nil {
				say("cidr: %v", err)
				return 1
			}
			say("applied")
		}
	}
	_ = ln.Close()
	if _, err := a.RemoveAll(); err != nil {
		say("remove: %v", err)
		return 1
	}
	return 0
}

func TestSpoofedSourceNeverMatchesInNetworkNamespaces(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	t.Run("bridge", func(t *testing.T) { spoofTest(t, true) })
	t.Run("routed", func(t *testing.T) { spoofTest(t, false) })
}

func spoofTest(t *testing.T, bridged bool) {
	id := os.Getpid() % 100000
	shape := "r"
	if bridged {
		shape = "b"
	}
	name := func(prefix string) string { return fmt.Sprintf("%s%s%d", prefix, shape, id) }
	node, imds := name("qn"), name("qi")
	pods := []struct{ ns, hostIf, ip, uid string }{
		{name("qa"), name("qva"), "10.252.0.2", fmt.Sprintf("%08x-0000-4000-8000-00000000000a", id)},
		{name("qb"), name("qvb"), "10.252.0.3", fmt.Sprintf("%08x-0000-4000-8000-00000000000b", id)},
	}
	const nodeIP, cidr = "10.252.0.1", "10.252.0.0/24"
	for _, ns := range []string{node, imds, pods[0].ns, pods[1].ns} {
		netnode.Run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		netnode.Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	bridge := name("qbr")
	if bridged {
		netnode.Run(t, "ip", "-n", node, "link", "add", bridge, "type", "bridge")
		netnode.Run(t, "ip", "-n", node, "addr", "add", nodeIP+"/24", "dev", bridge)
		netnode.Run(t, "ip", "-n", node, "link", "set", bridge, "up")
		// iptables sees bridged traffic only through br_netfilter; a new
		// namespace starts with it on, and it must stay on.
		if out, err := exec.Command("ip", "netns", "exec", node, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1").CombinedOutput(); err != nil {
			testenv.Missing(t, "needs br_netfilter (modprobe br_netfilter): %v %s", err, out)
		}
	}
	for _, p := range pods {
		podIf := "e" + p.hostIf
		netnode.Run(t, "ip", "link", "add", p.hostIf, "type", "veth", "peer", "name", podIf)
		netnode.Run(t, "ip", "link", "set", p.hostIf, "netns", node)
		netnode.Run(t, "ip", "link", "set", podIf, "netns", p.ns)
		netnode.Run(t, "ip", "-n", p.ns, "link", "set", podIf, "name", "eth0")
		netnode.Run(t, "ip", "-n", p.ns, "link", "set", "eth0", "up")
		if bridged {
			netnode.Run(t, "ip", "-n", node, "link", "set", p.hostIf, "master", bridge)
			netnode.Run(t, "ip", "-n", p.ns, "addr", "add", p.ip+"/24", "dev", "eth0")
		} else {
			netnode.Run(t, "ip", "-n", node, "addr", "add", nodeIP+"/32", "dev", p.hostIf)
			netnode.Run(t, "ip", "-n", p.ns, "addr", "add", p.ip+"/32", "dev", "eth0")
			netnode.Run(t, "ip", "-n", p.ns, "route", "add", nodeIP+"/32", "dev", "eth0")
		}
		netnode.Run(t, "ip", "-n", node, "link", "set", p.hostIf, "up")
		netnode.Run(t, "ip", "-n", p.ns, "route", "add", "default", "via", nodeIP, "dev", "eth0")
		if !bridged {
			netnode.Run(t, "ip", "-n", node, "route", "add", p.ip+"/32", "dev", p.hostIf)
		}
	}
	// The node reaches the real IMDS through an uplink, as on a VM.
	up, down := name("qu"), name("qd")
	netnode.Run(t, "ip", "link", "add", up, "type", "veth", "peer", "name", down)
	netnode.Run(t, "ip", "link", "set", up, "netns", node)
	netnode.Run(t, "ip", "link", "set", down, "netns", imds)
	netnode.Run(t, "ip", "-n", node, "addr", "add", "10.252.9.1/24", "dev", up)
	netnode.Run(t, "ip", "-n", node, "link", "set", up, "up")
	netnode.Run(t, "ip", "-n", imds, "addr", "add", "10.252.9.2/24", "dev", down)
	netnode.Run(t, "ip", "-n", imds, "link", "set", down, "up")
	netnode.Run(t, "ip", "-n", imds, "addr", "add", "169.254.169.254/32", "dev", "lo")
	netnode.Run(t, "ip", "-n", imds, "route", "add", "default", "via", "10.252.9.1")
	netnode.Run(t, "ip", "-n", node, "route", "add", "169.254.169.254/32", "via", "10.252.9.2")
	netnode.Run(t, "ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// No reverse-path filter: the rules alone must stop a spoofed source.
	ifaces := []string{"all", "default", pods[0].hostIf, pods[1].hostIf}
	if bridged {
		ifaces = append(ifaces, bridge)
	}
	for _, i := range ifaces {
		netnode.Run(t, "ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.conf."+i+".rp_filter=0")
	}
	// Each pod's process, in its namespace and in a pod-like cgroup.
	for _, p := range pods {
		netnode.PodProcess(t, p.ns, p.uid)
	}

	imdsLines := netnode.StartHelper(t, imds, []string{imdsEnv + "=1"}, os.Stderr, 10*time.Second)
	if l := <-imdsLines.Lines; l != "ready" {
		t.Fatalf("IMDS stand-in: %q", l)
	}
	helper := netnode.StartHelper(t, node, []string{helperEnv + "=1",
		"AGENT=" + nodeIP + ":2579", "CIDR=" + cidr,
		"PODS=" + pods[0].uid + "=" + pods[0].ip + "," + pods[1].uid + "=" + pods[1].ip}, os.Stderr, 10*time.Second)
	planLine := <-helper.Lines
	if l := <-helper.Lines; l != "ready" {
		t.Fatalf("helper: %q, %q", planLine, l)
	}
	t.Logf("helper: %s", planLine)
	want := fmt.Sprintf("plan PerPodInterfaces perPod=true keep=false %s@%s %s@%s", pods[0].ip, pods[0].hostIf, pods[1].ip, pods[1].hostIf)
	if bridged {
		want = fmt.Sprintf("plan PerPodInterfaces perPod=true keep=false %s@%s(bridge) %s@%s(bridge)", pods[0].ip, pods[0].hostIf, pods[1].ip, pods[1].hostIf)
	}
	if planLine != want {
		t.Fatalf("the discovery planned\n%s\nwant\n%s", planLine, want)
	}

	// iptables lists the rules in the words they were planned in, so the
	// applier recognises them and changes pods' rules one by one.
	var wantRules []string
	for _, p := range pods {
		m := "-i " + p.hostIf + " -p tcp"
		if bridged {
			m = "-p tcp -m physdev --physdev-in " + p.hostIf
		}
		wantRules = append(wantRules, "-A "+netrules.NATChain+" -s "+p.ip+"/32 "+m+" -j DNAT --to-destination "+nodeIP+":2579")
	}
	wantRules = append(wantRules, "-A "+netrules.NATChain+" -j RETURN")
	listed := strings.Split(strings.TrimSpace(netnode.Run(t, "ip", "netns", "exec", node, "iptables", "-t", "nat", "-S", netrules.NATChain)), "\n")
	if got := strings.Join(listed[1:], "\n"); got != strings.Join(wantRules, "\n") {
		t.Errorf("iptables lists the NAT chain as\n%s\nwant\n%s", got, strings.Join(wantRules, "\n"))
	}

	curl := func(ns string, extra ...string) (string, error) {
		args := append([]string{"netns", "exec", ns, "curl", "-sS", "--connect-timeout", "1", "-m", "2"}, extra...)
		out, err := exec.Command("ip", append(args, "http://169.254.169.254/metadata/identity/oauth2/token")...).CombinedOutput()
		return string(out), err
	}
	ruleA := func() int { return netnode.DNATPackets(t, node, netrules.NATChain, pods[0].ip, pods[0].hostIf) }
	ruleB := func() int { return netnode.DNATPackets(t, node, netrules.NATChain, pods[1].ip, pods[1].hostIf) }
	guard := func() int { return netnode.RejectPackets(t, node, netrules.ForwardGuard) }

	// Each pod is redirected by its own rule.
	if out, err := curl(pods[0].ns); err != nil || out != "token for "+pods[0].ip {
		t.Fatalf("pod A: %q, %v; want the agent to answer A", out, err)
	}
	if n := ruleA(); n != 1 {
		t.Errorf("pod A's rule counted %d packets for A's one connection, want 1", n)
	}
	if out, err := curl(pods[1].ns); err != nil || out != "token for "+pods[1].ip {
		t.Fatalf("pod B: %q, %v; want the agent to answer B", out, err)
	}
	expectLines(t, helper, "request from "+pods[0].ip, "request from "+pods[1].ip)

	// Pod B spoofs pod A's address from its own interface.
	netnode.Run(t, "ip", "-n", pods[1].ns, "addr", "add", pods[0].ip+"/32", "dev", "eth0")
	a0, b0, g0 := ruleA(), ruleB(), guard()
	if out, err := curl(pods[1].ns, "--interface", pods[0].ip); err == nil {
		t.Errorf("pod B spoofing A's address got %q", out)
	}
	a1, b1, g1 := ruleA(), ruleB(), guard()
	t.Logf("spoof: A's DNAT %d→%d, B's DNAT %d→%d, guard REJECT %d→%d", a0, a1, b0, b1, g0, g1)
	if a1 != a0 {
		t.Errorf("pod A's DNAT rule counted pod B's spoofed packet (%d → %d)", a0, a1)
	}
	if b1 != b0 {
		t.Errorf("pod B's DNAT rule counted a packet from A's address (%d → %d)", b0, b1)
	}
	if g1 <= g0 {
		t.Errorf("the forward guard's REJECT did not count the spoofed SYN (%d → %d)", g0, g1)
	}
	expectLines(t, helper) // the agent saw nothing from B
	if l := drain(imdsLines); len(l) != 0 {
		t.Errorf("the node's IMDS saw %q", l)
	}

	// The fallback: the pod-CIDR rule DNATs the same spoof, so the SYN
	// does reach the rules and the per-pod match is what refused it.
	helper.Send("cidr")
	if l := <-helper.Lines; l != "applied" {
		t.Fatalf("helper: %q", l)
	}
	c0 := netnode.DNATPackets(t, node, netrules.NATChain, cidr, "")
	_, _ = curl(pods[1].ns, "--interface", pods[0].ip)
	// At least one: the agent's SYN-ACK goes to A, whose RST ends the
	// connection, so a SYN B retransmits before curl gives up (1 s) is a
	// new connection and counted again.
	if c1 := netnode.DNATPackets(t, node, netrules.NATChain, cidr, ""); c1 <= c0 {
		t.Errorf("the pod-CIDR rule counted %d → %d for the spoofed SYN; want more: the test cannot tell the rules from the topology", c0, c1)
	}

	err := helper.Stop(10 * time.Second)
	for l := range helper.Lines {
		t.Logf("helper: %s", l)
	}
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	for _, table := range []string{"nat", "filter"} {
		if out := netnode.Run(t, "ip", "netns", "exec", node, "iptables", "-t", table, "-S"); strings.Contains(out, "PODID") {
			t.Errorf("rules left behind in %s:\n%s", table, out)
		}
	}
}

// drain returns the lines a helper printed so far.
func drain(h *netnode.Helper) []string {
	var out []string
	for {
		select {
		case l, ok := <-h.Lines:
			if !ok {
				return out
			}
			out = append(out, l)
		case <-time.After(100 * time.Millisecond):
			return out
		}
	}
}

// expectLines checks the helper printed exactly want since the last read.
func expectLines(t *testing.T, h *netnode.Helper, want ...string) {
	t.Helper()
	if got := drain(h); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the agent stand-in printed %q, want %q", got, want)
	}
}

//go:build linux

package netrules

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/podid/podid/internal/testenv"
)

// The network-namespace test builds a node namespace joined by veth pairs
// to three pod namespaces, runs the real Applier and a stand-in agent in
// the node namespace (this test binary, re-executed under "ip netns exec"),
// and calls the metadata address from the pods with curl:
//
//   - pod A (known) reaches the agent, which sees A's own address;
//   - pod B (known) spoofing A's address from its own interface gets nothing;
//   - pod C (not known to the agent) is refused at once.
//
// The node routes 169.254.169.254 to an "IMDS" namespace where a stand-in
// for the node's real IMDS answers, so whatever the rules let through would
// reach it; the forward guard's counter shows the refused requests were
// stopped by the rules, not by a missing route. Then the stand-in agent
// stops while its rules stay (as the real agent's do on every restart):
// pod A's request is refused and never reaches the IMDS. Only after
// RemoveAll, the uninstall step, does it.
//
// It needs root, iproute2, iptables and curl, and skips otherwise.

const (
	helperEnv = "PODID_NETRULES_HELPER"
	imdsEnv   = "PODID_NETRULES_IMDS"
	imdsBody  = "node IMDS token"
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

// runIMDS stands in for the node's real IMDS: it answers every request
// with imdsBody and prints one line per request.
func runIMDS() int {
	ln, err := net.Listen("tcp", "169.254.169.254:80")
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println("ready")
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("request from", r.RemoteAddr)
		fmt.Fprint(w, imdsBody)
	}))
	fmt.Println("serve:", err)
	return 1
}

// runHelper is the node side: apply the plan and serve; on the stdin line
// "stop", stop serving and leave the rules; on stdin EOF, RemoveAll.
func runHelper() int {
	var in Input
	in.Agent = netip.MustParseAddrPort(os.Getenv("AGENT"))
	for _, p := range strings.Split(os.Getenv("PODS"), ",") {
		iface, ip, _ := strings.Cut(p, "=")
		in.Pods = append(in.Pods, Pod{Interface: iface, IP: netip.MustParseAddr(ip)})
	}
	plan, err := MakePlan(in)
	if err != nil {
		fmt.Println("plan:", err)
		return 1
	}
	a, err := NewApplier(IPTablesOnPath)
	if err != nil {
		fmt.Println("applier:", err)
		return 1
	}
	if _, err := a.Sync(plan); err != nil {
		fmt.Println("sync:", err)
		return 1
	}
	ln, err := net.Listen("tcp", in.Agent.String())
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			fmt.Fprintf(w, "token for %s", host)
		}))
	}()
	fmt.Println("ready")
	in2 := bufio.NewScanner(os.Stdin)
	for in2.Scan() {
		if in2.Text() == "stop" {
			_ = ln.Close()
			fmt.Println("stopped")
		}
	}
	_ = ln.Close()
	if _, err := a.RemoveAll(); err != nil {
		fmt.Println("remove:", err)
		return 1
	}
	return 0
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRulesInNetworkNamespaces(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	id := os.Getpid() % 100000
	node := fmt.Sprintf("pdn%d", id)
	pods := []string{fmt.Sprintf("pda%d", id), fmt.Sprintf("pdb%d", id), fmt.Sprintf("pdc%d", id)}
	for _, ns := range append([]string{node}, pods...) {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	var known []string
	for i, ns := range pods {
		hostIf, podIf := fmt.Sprintf("pv%d%d", i+1, id), fmt.Sprintf("pp%d%d", i+1, id)
		nodeIP, podIP := fmt.Sprintf("10.250.%d.1", i+1), fmt.Sprintf("10.250.%d.2", i+1)
		run(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", podIf)
		run(t, "ip", "link", "set", hostIf, "netns", node)
		run(t, "ip", "link", "set", podIf, "netns", ns)
		run(t, "ip", "-n", node, "addr", "add", nodeIP+"/24", "dev", hostIf)
		run(t, "ip", "-n", node, "link", "set", hostIf, "up")
		run(t, "ip", "-n", ns, "addr", "add", podIP+"/24", "dev", podIf)
		run(t, "ip", "-n", ns, "link", "set", podIf, "up")
		run(t, "ip", "-n", ns, "route", "add", "default", "via", nodeIP)
		if i < 2 { // pod C stays unknown to the agent
			known = append(known, hostIf+"="+podIP)
		}
	}
	run(t, "ip", "-n", node, "addr", "add", "10.250.0.1/32", "dev", "lo")
	// The node reaches the real IMDS through an uplink, as on a VM, so
	// traffic the rules let through would be forwarded there.
	imds := fmt.Sprintf("pdi%d", id)
	run(t, "ip", "netns", "add", imds)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", imds).Run() })
	run(t, "ip", "link", "add", fmt.Sprintf("pu%d", id), "type", "veth", "peer", "name", fmt.Sprintf("pi%d", id))
	run(t, "ip", "link", "set", fmt.Sprintf("pu%d", id), "netns", node)
	run(t, "ip", "link", "set", fmt.Sprintf("pi%d", id), "netns", imds)
	run(t, "ip", "-n", node, "addr", "add", "10.250.9.1/24", "dev", fmt.Sprintf("pu%d", id))
	run(t, "ip", "-n", node, "link", "set", fmt.Sprintf("pu%d", id), "up")
	run(t, "ip", "-n", imds, "addr", "add", "10.250.9.2/24", "dev", fmt.Sprintf("pi%d", id))
	run(t, "ip", "-n", imds, "link", "set", fmt.Sprintf("pi%d", id), "up")
	run(t, "ip", "-n", imds, "link", "set", "lo", "up")
	run(t, "ip", "-n", imds, "addr", "add", "169.254.169.254/32", "dev", "lo")
	run(t, "ip", "-n", imds, "route", "add", "default", "via", "10.250.9.1")
	run(t, "ip", "-n", node, "route", "add", "169.254.169.254/32", "via", "10.250.9.2")
	run(t, "ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// No reverse-path filter: the rules alone must stop a spoofed source.
	run(t, "ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
	for i := range pods {
		run(t, "ip", "netns", "exec", node, "sysctl", "-qw", fmt.Sprintf("net.ipv4.conf.pv%d%d.rp_filter=0", i+1, id))
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var imdsHits atomic.Int32
	imdsSrv := exec.Command("ip", "netns", "exec", imds, self, "-test.run=^$")
	imdsSrv.Env = append(os.Environ(), imdsEnv+"=1")
	imdsOut, _ := imdsSrv.StdoutPipe()
	if err := imdsSrv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = imdsSrv.Process.Kill(); _ = imdsSrv.Wait() })
	imdsLines := bufio.NewScanner(imdsOut)
	if !imdsLines.Scan() || imdsLines.Text() != "ready" {
		t.Fatalf("IMDS stand-in: %q", imdsLines.Text())
	}
	go func() {
		for imdsLines.Scan() {
			imdsHits.Add(1)
		}
	}()
	helper := exec.Command("ip", "netns", "exec", node, self, "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"=1", "AGENT=10.250.0.1:2579", "PODS="+strings.Join(known, ","))
	stdin, _ := helper.StdinPipe()
	stdout, _ := helper.StdoutPipe()
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		_ = helper.Process.Kill()
		t.Fatalf("helper: %q", lines.Text())
	}

	curl := func(ns string, extra ...string) (string, error) {
		args := append([]string{"netns", "exec", ns, "curl", "-sS", "--connect-timeout", "1", "-m", "2", "-H", "Metadata: true"}, extra...)
		args = append(args, "http://169.254.169.254/metadata/identity/oauth2/token?resource=r")
		out, err := exec.Command("ip", args...).CombinedOutput()
		return string(out), err
	}
	if out, err := curl(pods[0]); err != nil || out != "token for 10.250.1.2" {
		t.Errorf("pod A: %q, %v; want the agent to see A's address", out, err)
	}
	if out, err := curl(pods[1]); err != nil || out != "token for 10.250.2.2" {
		t.Errorf("pod B: %q, %v; want the agent to see B's address", out, err)
	}
	run(t, "ip", "-n", pods[1], "addr", "add", "10.250.1.2/32", "dev", fmt.Sprintf("pp2%d", id))
	before := guardPackets(t, node)
	if out, err := curl(pods[1], "--interface", "10.250.1.2"); err == nil {
		t.Errorf("pod B spoofing A's address got %q", out)
	}
	if guardPackets(t, node) == before {
		t.Error("the spoofed request did not reach the forward guard: it was stopped by something else, or DNATed")
	}
	before = guardPackets(t, node)
	if out, err := curl(pods[2]); err == nil {
		t.Errorf("unknown pod C got %q", out)
	}
	if guardPackets(t, node) == before {
		t.Error("the unknown pod's request did not reach the forward guard")
	}
	if out, err := exec.Command("ip", "netns", "exec", pods[2], "curl", "-sS", "-m", "2", "http://10.250.0.1:2579/").CombinedOutput(); err == nil {
		t.Errorf("pod C calling the agent's address directly got %q", out)
	}

	if n := imdsHits.Load(); n != 0 {
		t.Errorf("the node's IMDS got %d requests from pods while the agent served", n)
	}

	// The agent stops; its rules stay. Pod A is refused, not forwarded.
	fmt.Fprintln(stdin, "stop")
	if !lines.Scan() || lines.Text() != "stopped" {
		t.Fatalf("helper: %q", lines.Text())
	}
	if out, err := curl(pods[0]); err == nil || strings.Contains(out, imdsBody) {
		t.Errorf("pod A with no agent serving got %q, %v; want the request refused", out, err)
	}
	if n := imdsHits.Load(); n != 0 {
		t.Errorf("the node's IMDS got %d requests from pods while no agent served", n)
	}
	if out := run(t, "ip", "netns", "exec", node, "iptables-save"); strings.Count(out, "PODID") < 6 {
		t.Errorf("the rules did not outlive the agent:\n%s", out)
	}

	// Uninstall: RemoveAll. Now, and only now, pod A reaches the IMDS,
	// which shows the refusals above were the rules' doing.
	_ = stdin.Close()
	if err := helper.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	for _, table := range []string{"nat", "filter"} {
		if out := run(t, "ip", "netns", "exec", node, "iptables", "-t", table, "-S"); strings.Contains(out, "PODID") {
			t.Errorf("rules left behind in %s:\n%s", table, out)
		}
	}
	if out, err := curl(pods[0]); err != nil || out != imdsBody {
		t.Errorf("pod A after uninstall: %q, %v; want the IMDS stand-in's answer (is the test's route to it broken?)", out, err)
	}
}

// guardPackets reads the packet counter of the forward guard's reject rule.
func guardPackets(t *testing.T, node string) string {
	t.Helper()
	out := run(t, "ip", "netns", "exec", node, "iptables", "-L", ForwardGuard, "-v", "-n", "-x")
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[2] == "REJECT" {
			return f[0]
		}
	}
	t.Fatalf("no REJECT rule in\n%s", out)
	return ""
}

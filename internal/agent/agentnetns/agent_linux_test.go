//go:build linux

package agentnetns

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// TestAgentTiesPodsToTheirBridgePorts runs the real agent (agent.Run, in
// this test binary re-executed under "ip netns exec") in a node namespace
// with a bridge and two pod namespaces on its ports, each pod with a
// process in a cgroup named like a pod's. The API server stand-in lists
// pod A; pod B is added while the agent runs.
//
//   - The agent plans A's redirect on A's bridge port (physdev), not the
//     pod CIDR, and logs that choice.
//   - B gets its rule within a second or two of its ADDED event, long
//     before the periodic repair (an hour here), and A's rule is never
//     rewritten meanwhile.
//   - A's own request is counted by A's rule; B spoofing A's address is
//     counted by the forward guard's REJECT and not by A's rule.
//   - When the agent stops, the rules stay.
//
// The node namespace goes when the test ends, and its tables with it.
func TestAgentTiesPodsToTheirBridgePorts(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	id := os.Getpid() % 100000
	name := func(p string) string { return fmt.Sprintf("%s%d", p, id) }
	node, bridge := name("wn"), name("wbr")
	type pod struct{ ns, hostIf, ip, uid, name string }
	pods := []pod{
		{name("wa"), name("wva"), "10.253.0.2", fmt.Sprintf("%08x-0000-4000-8000-0000000000aa", id), "a"},
		{name("wb"), name("wvb"), "10.253.0.3", fmt.Sprintf("%08x-0000-4000-8000-0000000000bb", id), "b"},
	}
	const nodeIP = "10.253.0.1"
	for _, ns := range []string{node, pods[0].ns, pods[1].ns} {
		netnode.Run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		netnode.Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	netnode.Run(t, "ip", "-n", node, "link", "add", bridge, "type", "bridge")
	netnode.Run(t, "ip", "-n", node, "addr", "add", nodeIP+"/24", "dev", bridge)
	netnode.Run(t, "ip", "-n", node, "link", "set", bridge, "up")
	if out, err := exec.Command("ip", "netns", "exec", node, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1").CombinedOutput(); err != nil {
		testenv.Missing(t, "needs br_netfilter (modprobe br_netfilter): %v %s", err, out)
	}
	for _, i := range []string{"all", "default", bridge} {
		netnode.Run(t, "ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.conf."+i+".rp_filter=0")
	}
	netnode.Run(t, "ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// A route to the metadata address, as a VM has: without one, traffic
	// no rule redirects would be dropped by routing before the guard.
	netnode.Run(t, "ip", "-n", node, "link", "add", name("wim"), "type", "veth", "peer", "name", name("wix"))
	netnode.Run(t, "ip", "-n", node, "link", "set", name("wix"), "up")
	netnode.Run(t, "ip", "-n", node, "link", "set", name("wim"), "up")
	netnode.Run(t, "ip", "-n", node, "route", "add", "169.254.169.254/32", "dev", name("wim"))
	for _, p := range pods {
		netnode.Run(t, "ip", "link", "add", p.hostIf, "type", "veth", "peer", "name", "e"+p.hostIf)
		netnode.Run(t, "ip", "link", "set", p.hostIf, "netns", node)
		netnode.Run(t, "ip", "link", "set", "e"+p.hostIf, "netns", p.ns)
		netnode.Run(t, "ip", "-n", p.ns, "link", "set", "e"+p.hostIf, "name", "eth0")
		netnode.Run(t, "ip", "-n", p.ns, "link", "set", "eth0", "up")
		netnode.Run(t, "ip", "-n", node, "link", "set", p.hostIf, "master", bridge)
		netnode.Run(t, "ip", "-n", node, "link", "set", p.hostIf, "up")
		netnode.Run(t, "ip", "-n", p.ns, "addr", "add", p.ip+"/24", "dev", "eth0")
		netnode.Run(t, "ip", "-n", p.ns, "route", "add", "default", "via", nodeIP)
		netnode.PodProcess(t, p.ns, p.uid)
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "agent.log")
	logs, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd := exec.Command("ip", "netns", "exec", node, self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "NODE_IP="+nodeIP, "LOCK_FILE="+filepath.Join(t.TempDir(), "nmi.lock"),
		"POD_A="+strings.Join([]string{pods[0].uid, pods[0].ip, pods[0].name}, " "))
	cmd.Stderr = logs
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	agentLog := func() string { b, _ := os.ReadFile(logFile); return string(b) }

	listed := func() string {
		return netnode.Run(t, "ip", "netns", "exec", node, "iptables", "-t", "nat", "-S", netrules.NATChain)
	}
	rule := func(p pod) string {
		return "-A " + netrules.NATChain + " -s " + p.ip + "/32 -p tcp -m physdev --physdev-in " + p.hostIf + " -j DNAT --to-destination " + nodeIP + ":2579"
	}
	waitFor := func(what string, ok func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > 20*time.Second {
				t.Fatalf("%s: not after %s; NAT chain:\n%s\nagent log:\n%s", what, time.Since(start), listed(), agentLog())
			}
			time.Sleep(50 * time.Millisecond)
		}
		return time.Since(start)
	}
	waitFor("pod A's rule", func() bool {
		out, err := exec.Command("ip", "netns", "exec", node, "iptables", "-t", "nat", "-S", netrules.NATChain).CombinedOutput()
		return err == nil && strings.Contains(string(out), rule(pods[0]))
	})
	if out := listed(); strings.Contains(out, "10.253.0.0/24") {
		t.Fatalf("the pod CIDR is redirected beside per-pod rules:\n%s", out)
	}
	if l := agentLog(); !strings.Contains(l, "metadata redirect chosen") || !strings.Contains(l, "reason=PerPodInterfaces") {
		t.Fatalf("the agent did not log its choice of redirect:\n%s", l)
	}

	// Pod B starts.
	fmt.Fprintln(stdin, "add", pods[1].uid, pods[1].ip, pods[1].name)
	took := waitFor("pod B's rule after its ADDED event", func() bool { return strings.Contains(listed(), rule(pods[1])) })
	t.Logf("pod B's rule in place %s after its ADDED event", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("pod B waited %s for its rule", took)
	}
	if want := rule(pods[0]) + "\n" + rule(pods[1]); !strings.Contains(listed(), rule(pods[0])) || strings.Count(listed(), "-j DNAT") != 2 {
		t.Fatalf("NAT chain\n%s\nwant the two pods' rules (%s)", listed(), want)
	}

	// A's request is redirected by A's rule; B spoofing A is refused.
	a0 := netnode.DNATPackets(t, node, netrules.NATChain, pods[0].ip, pods[0].hostIf)
	_, _ = curl(pods[0].ns)
	if a1 := netnode.DNATPackets(t, node, netrules.NATChain, pods[0].ip, pods[0].hostIf); a1 != a0+1 {
		t.Errorf("pod A's rule counted %d → %d for A's request, want one more", a0, a1)
	}
	netnode.Run(t, "ip", "-n", pods[1].ns, "addr", "add", pods[0].ip+"/32", "dev", "eth0")
	a0, g0 := netnode.DNATPackets(t, node, netrules.NATChain, pods[0].ip, pods[0].hostIf), netnode.RejectPackets(t, node, netrules.ForwardGuard)
	if out, err := curl(pods[1].ns, "--interface", pods[0].ip); err == nil {
		t.Errorf("pod B spoofing A's address got %q", out)
	}
	a1, g1 := netnode.DNATPackets(t, node, netrules.NATChain, pods[0].ip, pods[0].hostIf), netnode.RejectPackets(t, node, netrules.ForwardGuard)
	t.Logf("spoof: A's DNAT %d→%d, guard REJECT %d→%d", a0, a1, g0, g1)
	if a1 != a0 || g1 <= g0 {
		t.Errorf("B's spoofed SYN: A's rule %d → %d (want no change), guard %d → %d (want more)", a0, a1, g0, g1)
	}

	// The agent stops; its rules stay.
	_ = stdin.Close()
	stopped := ""
	for lines.Scan() {
		if l := lines.Text(); strings.HasPrefix(l, "stopped: ") {
			stopped = l
		}
	}
	if stopped != `stopped: "<nil>"` {
		t.Fatalf("agent: %q; log:\n%s", stopped, agentLog())
	}
	if out := listed(); !strings.Contains(out, rule(pods[0])) || !strings.Contains(out, rule(pods[1])) {
		t.Fatalf("the rules did not outlive the agent:\n%s", out)
	}
}

const helperEnv = "PODID_AGENTNETNS_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runAgent())
	}
	os.Exit(m.Run())
}

// runAgent serves an API stand-in with pod A, runs the agent against it,
// adds a pod on each stdin line "add <uid> <ip> <name>", and on stdin EOF
// stops the agent and prints "stopped: <quoted error>".
func runAgent() int {
	api := newAPI()
	uid, ip, name := fields3(os.Getenv("POD_A"))
	api.add(uid, ip, name)
	url, err := api.serve()
	if err != nil {
		fmt.Printf("stopped: %q\n", err.Error())
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			if f := strings.Fields(in.Text()); len(f) == 4 && f[0] == "add" {
				api.add(f[1], f[2], f[3])
			}
		}
		cancel()
	}()
	o := agent.NewOptions()
	o.NodeName, o.NodeIP = "node-0", os.Getenv("NODE_IP")
	o.ListenAddress, o.ProbeAddress, o.MetricsAddress = o.NodeIP+":2579", "", ""
	o.PodCIDRs = []string{"10.253.0.0/24"}
	o.LockFile, o.LockWait = os.Getenv("LOCK_FILE"), 0
	o.IPTablesSyncInterval = time.Hour // only pod changes may bring B's rule
	err = agent.Run(ctx, &rest.Config{Host: url}, o, nil)
	msg := "<nil>"
	if err != nil {
		msg = err.Error()
	}
	fmt.Printf("stopped: %q\n", msg)
	return 0
}

func fields3(s string) (string, string, string) {
	f := strings.Fields(s)
	return f[0], f[1], f[2]
}

// api stands in for the API server: pods of node-0 listed and watched,
// every other list empty and its watch held open.
type api struct {
	mu       sync.Mutex
	rv       int
	pods     []json.RawMessage
	watchers []chan json.RawMessage
}

func newAPI() *api { return &api{rv: 1} }

func (a *api) add(uid, ip, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rv++
	pod, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": "default", "uid": uid, "resourceVersion": strconv.Itoa(a.rv)},
		"spec":     map[string]any{"nodeName": "node-0", "containers": []any{map[string]any{"name": "c", "image": "pause"}}},
		"status":   map[string]any{"phase": "Running", "podIP": ip, "podIPs": []any{map[string]any{"ip": ip}}},
	})
	a.pods = append(a.pods, pod)
	for _, w := range a.watchers {
		w <- pod
	}
}

var kinds = map[string]string{
	"pods":                       "v1 PodList",
	"azureassignedidentities":    "aadpodidentity.k8s.io/v1 AzureAssignedIdentityList",
	"azurepodidentityexceptions": "aadpodidentity.k8s.io/v1 AzurePodIdentityExceptionList",
	"azureidentitybindings":      "aadpodidentity.k8s.io/v1 AzureIdentityBindingList",
	"azureidentities":            "aadpodidentity.k8s.io/v1 AzureIdentityList",
}

func (a *api) serve() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			resource := path.Base(r.URL.Path)
			gvk, ok := kinds[resource]
			if !ok {
				http.NotFound(w, r)
				return
			}
			if r.URL.Query().Get("watch") == "true" {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				if resource != "pods" {
					<-r.Context().Done()
					return
				}
				events := make(chan json.RawMessage, 16)
				a.mu.Lock()
				a.watchers = append(a.watchers, events)
				a.mu.Unlock()
				for {
					select {
					case <-r.Context().Done():
						return
					case pod := <-events:
						fmt.Fprintf(w, `{"type":"ADDED","object":%s}`+"\n", pod)
						w.(http.Flusher).Flush()
					}
				}
			}
			apiVersion, kind, _ := strings.Cut(gvk, " ")
			a.mu.Lock()
			items := []json.RawMessage{}
			if resource == "pods" {
				items = append(items, a.pods...)
			}
			body, _ := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": kind,
				"metadata": map[string]any{"resourceVersion": strconv.Itoa(a.rv)}, "items": items})
			a.mu.Unlock()
			_, _ = w.Write(body)
		}))
	}()
	return "http://" + ln.Addr().String(), nil
}

func curl(ns string, extra ...string) (string, error) {
	args := append([]string{"netns", "exec", ns, "curl", "-sS", "--connect-timeout", "1", "-m", "2", "-H", "Metadata: true"}, extra...)
	out, err := exec.Command("ip", append(args, "http://169.254.169.254/metadata/identity/oauth2/token?resource=r")...).CombinedOutput()
	return string(out), err
}

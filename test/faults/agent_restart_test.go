package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// TestAgentRestartUnderLoad stops the real agent, with its iptables rules
// managed, while a pod asks for a token every 20 ms, and counts what
// reaches the node's IMDS meanwhile. The node namespace runs the cluster,
// the cloud, mic and the agent; a pod namespace runs the load loop (a new
// connection per call); behind the node, an IMDS namespace answers
// 169.254.169.254:80 and reports every request it gets. The node forwards
// to it (ip_forward on, rp_filter off), so whatever the rules let through
// would reach it.
//
// The agent is stopped in every way it can stop, each followed by a new
// agent: its context cancelled in-process (what its SIGTERM handler does),
// SIGTERM to `podid nmi`, and SIGKILL to `podid nmi`, which runs no
// shutdown code at all. The rules outlive each agent, so no request from
// the pod may reach the IMDS, and tokens must flow again after each
// restart. The longest gap between two tokens is logged for each kind of
// stop. At the end, `nmi cleanup` (agent.Cleanup) removes the rules and
// one request from the pod does reach the IMDS stand-in: the zero counts
// before were the rules' doing, not a broken route.
func TestAgentRestartUnderLoad(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	began := time.Now()
	dir := t.TempDir()
	podid := filepath.Join(dir, "podid")
	if out, err := exec.Command("go", "build", "-o", podid, "../../cmd/podid").CombinedOutput(); err != nil {
		t.Fatalf("build podid: %v\n%s", err, out)
	}

	id := strconv.Itoa(os.Getpid() % 100000)
	nodeNS, podNS, imdsNS := "pfn"+id, "pfp"+id, "pfi"+id
	for _, ns := range []string{nodeNS, podNS, imdsNS} {
		netnode.AddNetns(t, ns)
	}
	hostIf, podIf := "fh"+id, "fp"+id
	netnode.LinkPod(t, nodeNS, podNS, hostIf, podIf, nodeIP)
	netnode.IP(t, "netns", "exec", nodeNS, "sysctl", "-qw", "net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf."+hostIf+".rp_filter=0")
	// The node reaches the real IMDS through an uplink, as on a VM.
	upIf, imdsIf := "fu"+id, "fi"+id
	hitsIn := imdsBehindNode(t, nodeNS, imdsNS, upIf, imdsIf)

	// The node.
	logFile := filepath.Join(dir, "node.log")
	logf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	node := netnode.StartHelper(t, nodeNS, []string{nodeEnv + "=1", podidEnv + "=" + podid}, logf, 60*time.Second)
	nodeLog := func() string {
		raw, _ := os.ReadFile(logFile)
		return netnode.Tail(string(raw), 40)
	}
	expect := func(prefix string, timeout time.Duration) []string {
		t.Helper()
		deadline := time.After(timeout)
		for {
			select {
			case l, ok := <-node.Lines:
				if !ok {
					t.Fatalf("the node side exited waiting for %s; its log ends:\n%s", prefix, nodeLog())
				}
				f := strings.Fields(l)
				if len(f) > 0 && f[0] == prefix {
					return f[1:]
				}
				if len(f) > 0 && f[0] == "FAILED" {
					t.Fatalf("node side, waiting for %s: %s\n%s", prefix, l, nodeLog())
				}
				t.Logf("node: %s", l)
			case <-deadline:
				t.Fatalf("no %s from the node side within %s; its log ends:\n%s", prefix, timeout, nodeLog())
			}
		}
	}
	ready := expect("READY", 5*time.Minute)
	podIP := ready[0]
	netnode.RoutePod(t, nodeNS, podNS, hostIf, podIP, nodeIP)
	t.Logf("node ready in %s; pod %s", time.Since(began).Round(time.Millisecond), podIP)

	// The load loop.
	load := netnode.StartHelper(t, podNS, []string{loadEnv + "=1"}, os.Stderr, 10*time.Second)
	var res results
	collected := make(chan struct{})
	go func() { res.collect(load.Lines); close(collected) }()
	loadStart := time.Now()
	waitToken := func(after time.Time, what string) time.Duration {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if res.tokenAfter(after) {
				return time.Since(after)
			}
		}
		t.Fatalf("no token within 60s %s; the node's log ends:\n%s", what, nodeLog())
		return 0
	}
	waitToken(loadStart, "of the first agent")
	// hold is how long each phase goes on once tokens flow again.
	const hold = 2 * time.Second
	time.Sleep(hold)

	type phase struct {
		stop, cmd         string
		from, stopped, to time.Time
	}
	phases := []*phase{
		{stop: "baseline", from: loadStart},
		{stop: "SIGTERM (context cancelled, in-process)", cmd: "cancel"},
		{stop: "SIGTERM (context cancelled, in-process)", cmd: "cancel"},
		{stop: "switch to podid nmi (context cancelled, no pause)", cmd: "to-process"},
		{stop: "SIGTERM (podid nmi)", cmd: "sigterm"},
		{stop: "SIGKILL (podid nmi)", cmd: "sigkill"},
		{stop: "SIGKILL (podid nmi)", cmd: "sigkill"},
	}
	phases[0].to = time.Now()
	for _, p := range phases[1:] {
		p.from = time.Now()
		node.Send(p.cmd)
		ns, _ := strconv.ParseInt(expect("STOPPED", time.Minute)[0], 10, 64)
		p.stopped = time.Unix(0, ns)
		expect("SERVING", 2*time.Minute)
		waitToken(p.stopped, "after "+p.cmd)
		time.Sleep(hold)
		p.to = time.Now()
	}
	if err := load.Stop(10 * time.Second); err != nil {
		t.Errorf("load loop: %v", err)
	}
	<-collected
	all := res.snapshot()

	// The figures.
	t.Logf("%d token calls in %s, one every %s at most, keep-alive off; restart pause %s",
		len(all), time.Since(loadStart).Round(time.Millisecond), loadInterval, restartPause)
	worst := map[string]time.Duration{}
	var order []string
	for _, p := range phases {
		kinds := map[string]int{}
		var lastToken, firstAfterStop time.Time
		var gap time.Duration
		tokensBefore := 0
		for _, r := range all {
			if r.kind == kindToken && !lastToken.IsZero() && r.end.After(p.from) && !r.end.After(p.to) {
				gap = max(gap, r.end.Sub(lastToken))
			}
			if r.start.After(p.from) && !r.start.After(p.to) {
				kinds[r.kind]++
				if r.kind == kindToken && !p.stopped.IsZero() && r.start.After(p.stopped) && firstAfterStop.IsZero() {
					firstAfterStop = r.end
				}
			}
			// Tokens in the hold before the stop.
			if r.kind == kindToken && r.end.After(p.from.Add(-hold)) && (p.stopped.IsZero() || r.end.Before(p.stopped)) {
				tokensBefore++
			}
			if r.kind == kindToken {
				lastToken = r.end
			}
		}
		leaks := hitsIn(p.from, p.to)
		resumed := "-"
		if !p.stopped.IsZero() {
			resumed = firstAfterStop.Sub(p.stopped).Round(time.Millisecond).String()
		}
		t.Logf("%-50s IMDS hits %d, longest gap between tokens %s, first token %s after the stop, calls %v",
			p.stop+":", leaks, gap.Round(time.Millisecond), resumed, kinds)
		if leaks != 0 {
			t.Errorf("%s: %d requests from the pod reached the node's IMDS", p.stop, leaks)
		}
		if tokensBefore == 0 {
			t.Errorf("%s: no token before the stop", p.stop)
		}
		if kinds[kindToken] == 0 {
			t.Errorf("%s: no token at all", p.stop)
		}
		if _, ok := worst[p.stop]; !ok {
			order = append(order, p.stop)
		}
		worst[p.stop] = max(worst[p.stop], gap)
	}
	for _, k := range order {
		t.Logf("longest gap in service, %s: %s", k, worst[k].Round(time.Millisecond))
	}
	if n := hitsIn(time.Time{}, time.Now().Add(time.Hour)); n != 0 {
		t.Errorf("in all, %d requests from the pod reached the node's IMDS while an agent's rules were in place", n)
	}

	// Uninstall; now, and only now, the pod reaches the IMDS stand-in.
	node.Send("cleanup")
	expect("CLEANED", time.Minute)
	if out, _ := exec.Command("ip", "netns", "exec", nodeNS, "iptables-save").CombinedOutput(); strings.Contains(string(out), "PODID") {
		t.Errorf("cleanup left rules behind:\n%s", out)
	}
	out, err := exec.Command("ip", "netns", "exec", podNS, "curl", "-sS", "-m", "5", "-H", "Metadata: true", tokenURL).CombinedOutput()
	if err != nil || string(out) != imdsBody {
		t.Errorf("pod after cleanup: %q, %v; want the IMDS stand-in's answer (is the test's route to it broken?)", out, err)
	}
	if err := node.Stop(2 * time.Minute); err != nil {
		t.Errorf("node side: %v\n%s", err, nodeLog())
	}
	t.Logf("total runtime %s", time.Since(began).Round(time.Millisecond))
}

package faults

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podid/podid/internal/testenv/netnode"
)

// outageWorld is TestAgentRestartUnderLoad's world (node, pod and IMDS
// namespaces; the node side of node_test.go, here without a podid
// binary, as the agent only runs in-process) plus the newcomer: a second
// pod namespace whose load loop also reports what the agent answers.
type outageWorld struct {
	t     *testing.T
	began time.Time
	node  *nodeSide
	// known is the load of pod app, which has an Assigned identity;
	// newcomer the load of the newcomer namespace.
	known, newcomer   *results
	loadStart         time.Time
	loads             []*netnode.Helper
	collected         []chan struct{}
	nodeNS, newNS     string
	newHostIf         string
	hitsIn            func(from, to time.Time) int
	detailsMu         sync.Mutex
	details           []detail
	newcomerAddresses map[string]bool
}

// detail is a "D" line of a load loop: an HTTP answer without a token.
type detail struct {
	start       time.Time
	status      int
	retryAfter  string
	description string
}

func startOutageWorld(t *testing.T) *outageWorld {
	w := &outageWorld{t: t, began: time.Now(), newcomerAddresses: map[string]bool{unknownIP: true}}
	id := strconv.Itoa(os.Getpid() % 100000)
	nodeNS, podNS, imdsNS, newNS := "pon"+id, "pop"+id, "poi"+id, "pox"+id
	w.nodeNS, w.newNS = nodeNS, newNS
	for _, ns := range []string{nodeNS, podNS, imdsNS, newNS} {
		netnode.AddNetns(t, ns)
	}
	hostIf, podIf := "oh"+id, "op"+id
	netnode.LinkPod(t, nodeNS, podNS, hostIf, podIf, nodeIP)
	w.newHostIf = "xh" + id
	netnode.LinkPod(t, nodeNS, newNS, w.newHostIf, "xp"+id, nodeIP)
	netnode.IP(t, "netns", "exec", nodeNS, "sysctl", "-qw", "net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
		"net.ipv4.conf."+hostIf+".rp_filter=0", "net.ipv4.conf."+w.newHostIf+".rp_filter=0")
	upIf, imdsIf := "ou"+id, "oi"+id
	w.hitsIn = imdsBehindNode(t, nodeNS, imdsNS, upIf, imdsIf)

	// The node side.
	logFile := filepath.Join(t.TempDir(), "node.log")
	logf, err := os.Create(logFile)
	if err != nil {
		t.Fatalf("create node log: %v", err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	w.node = &nodeSide{t: t, logFile: logFile,
		h: netnode.StartHelper(t, nodeNS, []string{nodeEnv + "=1"}, logf, 60*time.Second)}
	podIP := w.node.expect("READY", 5*time.Minute)[0]
	netnode.RoutePod(t, nodeNS, podNS, hostIf, podIP, nodeIP)
	netnode.RoutePod(t, nodeNS, newNS, w.newHostIf, unknownIP, nodeIP)
	t.Logf("node ready in %s; pod app %s, newcomer %s", time.Since(w.began).Round(time.Millisecond), podIP, unknownIP)

	// The load loops: the known pod's as in TestAgentRestartUnderLoad at
	// the pace the agent's per-pod limit allows; the newcomer's waits out
	// the agent's assignment wait and reports answers.
	w.loadStart = time.Now()
	w.known = w.startLoad(podNS, []string{loadIntervalEnv + "=" + knownInterval.String()})
	w.newcomer = w.startLoad(newNS, []string{loadTimeoutEnv + "=15s", loadDetailEnv + "=1"})
	for deadline := time.Now().Add(time.Minute); !w.known.tokenAfter(w.loadStart); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no token for pod app within a minute; node log ends:\n%s", w.node.log())
		}
	}
	return w
}

// startLoad runs a load loop in namespace ns and collects its results;
// "D" lines go to w.details.
func (w *outageWorld) startLoad(ns string, env []string) *results {
	h := netnode.StartHelper(w.t, ns, append([]string{loadEnv + "=1"}, env...), os.Stderr, 20*time.Second)
	w.loads = append(w.loads, h)
	res := &results{}
	done := make(chan struct{})
	w.collected = append(w.collected, done)
	rlines := make(chan string, 1024)
	go func() {
		defer close(rlines)
		for l := range h.Lines {
			f := strings.SplitN(l, " ", 5)
			if len(f) >= 4 && f[0] == "D" {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				status, _ := strconv.Atoi(f[2])
				d := detail{start: time.Unix(0, ns), status: status, retryAfter: f[3]}
				if len(f) == 5 {
					d.description = f[4]
				}
				w.detailsMu.Lock()
				w.details = append(w.details, d)
				w.detailsMu.Unlock()
				continue
			}
			rlines <- l
		}
	}()
	go func() { res.collect(rlines); close(done) }()
	return res
}

func (w *outageWorld) newcomerDetails() []detail {
	w.detailsMu.Lock()
	defer w.detailsMu.Unlock()
	return append([]detail(nil), w.details...)
}

// newcomerFrom makes the newcomer call from ip, adding the address (and the
// node's route back) the first time.
func (w *outageWorld) newcomerFrom(ip string) {
	if !w.newcomerAddresses[ip] {
		netnode.IP(w.t, "-n", w.newNS, "addr", "add", ip+"/32", "dev", "eth0")
		netnode.IP(w.t, "-n", w.nodeNS, "route", "add", ip+"/32", "dev", w.newHostIf)
		w.newcomerAddresses[ip] = true
	}
	netnode.IP(w.t, "-n", w.newNS, "route", "replace", "default", "via", nodeIP.String(), "dev", "eth0", "src", ip)
}

// stopLoads ends the load loops and waits for their last results.
func (w *outageWorld) stopLoads() {
	for _, h := range w.loads {
		if err := h.Stop(20 * time.Second); err != nil {
			w.t.Errorf("load loop: %v", err)
		}
	}
	for _, c := range w.collected {
		<-c
	}
}

// hits is how many requests reached the node's IMDS in all.
func (w *outageWorld) hits() int {
	return w.hitsIn(time.Time{}, time.Now().Add(time.Hour))
}

// nodeSide talks to the node helper (runNode) over its stdin and stdout.
type nodeSide struct {
	t       *testing.T
	h       *netnode.Helper
	logFile string
}

func (n *nodeSide) log() string { return netnode.FileTail(n.logFile, 40) }

// do sends a command and returns the fields of its "DONE" answer; a
// "FAILED" answer, an exit or the timeout fails the test.
func (n *nodeSide) do(cmd string, timeout time.Duration) []string {
	n.t.Helper()
	n.h.Send(cmd)
	return n.expect("DONE", timeout)
}

// expect waits for a line starting with prefix and returns its other
// fields; other lines are logged.
func (n *nodeSide) expect(prefix string, timeout time.Duration) []string {
	n.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-n.h.Lines:
			if !ok {
				n.t.Fatalf("the node side exited waiting for %s; its log ends:\n%s", prefix, n.log())
			}
			f := strings.Fields(l)
			if len(f) > 0 && f[0] == prefix {
				return f[1:]
			}
			if len(f) > 0 && f[0] == "FAILED" {
				n.t.Fatalf("node side, waiting for %s: %s\n%s", prefix, l, n.log())
			}
			n.t.Logf("node: %s", l)
		case <-deadline:
			n.t.Fatalf("no %s from the node side within %s; its log ends:\n%s", prefix, timeout, n.log())
		}
	}
}

//go:build linux

package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/testenv"
)

// The network-namespace test runs whole agents (agent.Run in this test
// binary, under "ip netns exec") in a namespace of their own, against an
// API server stand-in that has no pods: an agent that may start syncs at
// once and installs its rules, so one that installs nothing was refused.
//
//   - Beside aad-pod-identity's chain and jump (as its NMI leaves them),
//     an agent told not to wait refuses with a message naming
//     aad-pod-identity and installs nothing. One that waits (the default)
//     installs only its FORWARD guard; the commands the message prints
//     remove the chain, and the waiting agent takes over.
//   - A second agent on the same lock file refuses, naming the first's
//     PID; a third that waits starts once the first exits.
//
// It needs root, iproute2 and iptables; it skips otherwise, except under
// CI, where it fails.

// runAgentHelper is one agent: Run with the lock file and wait the
// environment gives, until SIGTERM. It prints "stopped: <quoted error>".
func runAgentHelper() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	api, err := startEmptyAPIServer()
	if err != nil {
		fmt.Printf("stopped: %q\n", err.Error())
		return 1
	}
	wait, _ := time.ParseDuration(os.Getenv("LOCK_WAIT"))
	o := NewOptions()
	o.NodeName, o.NodeIP = "node-0", "127.0.0.1"
	o.ListenAddress, o.ProbeAddress, o.MetricsAddress = "127.0.0.1:2579", "", ""
	o.PodCIDRs = []string{"10.244.0.0/24"}
	o.LockFile, o.LockWait = os.Getenv("LOCK_FILE"), wait
	o.WaitForOtherAgents = os.Getenv("WAIT_FOR_OTHER_AGENTS") == "true"
	err = Run(ctx, &rest.Config{Host: api}, o, nil)
	msg := "<nil>"
	if err != nil {
		msg = err.Error()
	}
	fmt.Printf("stopped: %q\n", msg)
	return 0
}

// startEmptyAPIServer answers the agent's lists with no objects and holds
// its watches open: a cluster with nothing on this node.
func startEmptyAPIServer() (string, error) {
	kinds := map[string]string{
		"pods":                       "v1 PodList",
		"azureassignedidentities":    "aadpodidentity.k8s.io/v1 AzureAssignedIdentityList",
		"azurepodidentityexceptions": "aadpodidentity.k8s.io/v1 AzurePodIdentityExceptionList",
		"azureidentitybindings":      "aadpodidentity.k8s.io/v1 AzureIdentityBindingList",
		"azureidentities":            "aadpodidentity.k8s.io/v1 AzureIdentityList",
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Query().Get("watch") == "true" {
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
			gvk, ok := kinds[path.Base(r.URL.Path)]
			if !ok {
				fmt.Fprintln(os.Stderr, "API stand-in: unexpected request", r.URL)
				http.NotFound(w, r)
				return
			}
			apiVersion, kind, _ := strings.Cut(gvk, " ")
			fmt.Fprintf(w, `{"apiVersion":%q,"kind":%q,"metadata":{"resourceVersion":"1"},"items":[]}`, apiVersion, kind)
		}))
	}()
	return "http://" + ln.Addr().String(), nil
}

// netnsAgent is an agent process in the test's namespace.
type netnsAgent struct {
	cmd     *exec.Cmd
	stopped chan string // Run's error, once it returned
	logFile string
}

// logs are what the agent logged so far.
func (a *netnsAgent) logs() string {
	b, _ := os.ReadFile(a.logFile)
	return string(b)
}

func startNetnsAgent(t *testing.T, ns, lockFile string, wait time.Duration, waitForOthers bool) *netnsAgent {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.CreateTemp(t.TempDir(), "agent-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close() // the child has its own descriptor
	a := &netnsAgent{stopped: make(chan string, 1), logFile: logs.Name()}
	a.cmd = exec.Command("ip", "netns", "exec", ns, self, "-test.run=^$")
	a.cmd.Env = append(os.Environ(), runEnv+"=1", "LOCK_FILE="+lockFile, "LOCK_WAIT="+wait.String(), "WAIT_FOR_OTHER_AGENTS="+strconv.FormatBool(waitForOthers))
	a.cmd.Stderr = logs
	stdout, _ := a.cmd.StdoutPipe()
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.cmd.Process.Kill(); _ = a.cmd.Wait() })
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if q, ok := strings.CutPrefix(lines.Text(), "stopped: "); ok {
				msg, err := strconv.Unquote(q)
				if err != nil {
					msg = q
				}
				a.stopped <- msg
				return
			}
		}
		a.stopped <- "exited without saying why"
	}()
	return a
}

// waitStopped returns Run's error text once the agent stopped.
func (a *netnsAgent) waitStopped(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case msg := <-a.stopped:
		_ = a.cmd.Wait()
		return msg
	case <-time.After(within):
		t.Fatalf("agent still running after %s; log:\n%s", within, a.logs())
		return ""
	}
}

// waitHolding waits until the lock file names the agent's process.
func (a *netnsAgent) waitHolding(t *testing.T, lockFile string) {
	t.Helper()
	want := "pid=" + strconv.Itoa(a.cmd.Process.Pid) + "\n"
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, _ := os.ReadFile(lockFile); strings.Contains(string(b), want) {
			return
		}
		select {
		case msg := <-a.stopped:
			t.Fatalf("agent stopped: %s\nlog:\n%s", msg, a.logs())
		default:
		}
	}
	b, _ := os.ReadFile(lockFile)
	t.Fatalf("lock file does not name the agent (PID %d):\n%s\nlog:\n%s", a.cmd.Process.Pid, b, a.logs())
}

func iptablesSave(t *testing.T, ns string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "iptables-save").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables-save: %v\n%s", err, out)
	}
	return string(out)
}

func inNetns(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// removeCommand is the shell command a refusal tells the user to run.
var removeCommand = regexp.MustCompile("remove it on the node with `([^`]+)`")

func TestRefusalsInNetworkNamespace(t *testing.T) {
	testenv.RequireNetworkNamespaces(t)
	ns := fmt.Sprintf("pdg%d", os.Getpid()%100000)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	inNetns(t, ns, "ip", "link", "set", "lo", "up")
	lockFile := filepath.Join(t.TempDir(), "run", "nmi.lock")

	// aad-pod-identity's NMI's rules, as pkg/nmi/iptables installs them.
	inNetns(t, ns, "iptables", "-t", "nat", "-N", "aad-metadata")
	inNetns(t, ns, "iptables", "-t", "nat", "-A", "aad-metadata", "!", "-s", "127.0.0.1/32", "-d", "169.254.169.254/32",
		"-p", "tcp", "-m", "tcp", "--dport", "80", "-j", "DNAT", "--to-destination", "127.0.0.1:2579")
	inNetns(t, ns, "iptables", "-t", "nat", "-A", "aad-metadata", "-j", "RETURN")
	inNetns(t, ns, "iptables", "-t", "nat", "-I", "PREROUTING", "1", "-j", "aad-metadata")

	msg := startNetnsAgent(t, ns, lockFile, 0, false).waitStopped(t, 20*time.Second)
	for _, want := range []string{
		"aad-pod-identity's NMI owns the metadata redirect on this node (nat chain aad-metadata, jumped to from PREROUTING",
		"--to-destination 127.0.0.1:2579",
		"helm uninstall aad-pod-identity -n <namespace>",
		"`kubectl -n default delete daemonset/nmi deployment/mic`, not `kubectl delete -f` of that file",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal lacks %q:\n%s", want, msg)
		}
	}
	if rules := iptablesSave(t, ns); strings.Contains(rules, "PODID") {
		t.Errorf("the refused agent installed rules:\n%s", rules)
	}
	if _, err := os.Stat(filepath.Dir(lockFile)); !os.IsNotExist(err) {
		t.Errorf("the refused agent left its lock folder behind: %v", err)
	}

	// With --wait-for-other-agents (the default) the agent stays: it
	// installs the guard alone, which refuses only what no redirect took,
	// and no redirect of its own.
	first := startNetnsAgent(t, ns, lockFile, 0, true)
	waitFor(t, "the waiting agent's guard", first.logs, func() bool { return strings.Contains(iptablesSave(t, ns), ":"+netrules.ForwardGuard+" ") })
	rules := iptablesSave(t, ns)
	if strings.Contains(rules, ":"+netrules.NATChain+" ") || strings.Contains(rules, ":"+netrules.AgentGuard+" ") || !strings.Contains(rules, "-A PREROUTING -j aad-metadata") {
		t.Errorf("beside aad-pod-identity's redirect the waiting agent should add its FORWARD guard and nothing else:\n%s", rules)
	}
	// The agent says why it waits once it has installed the guard: wait
	// for the line rather than race it.
	waitFor(t, "the waiting agent to say why it waits", first.logs, func() bool {
		return strings.Contains(first.logs(), "aad-pod-identity's NMI owns the metadata redirect on this node")
	})

	// The fix the refusal prints, run as printed, clears the way, and the
	// waiting agent takes over without a restart.
	m := removeCommand.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("refusal prints no commands:\n%s", msg)
	}
	gone := time.Now()
	inNetns(t, ns, "sh", "-c", m[1])
	if rules := iptablesSave(t, ns); strings.Contains(rules, "aad-metadata") {
		t.Fatalf("after %s:\n%s", m[1], rules)
	}
	first.waitHolding(t, lockFile)
	waitFor(t, "the waiting agent's rules", first.logs, func() bool { return strings.Contains(iptablesSave(t, ns), ":PODID-METADATA ") })
	t.Logf("the waiting agent redirected pods %s after aad-pod-identity's chain went", time.Since(gone).Round(time.Millisecond))
	waitFor(t, "the agent to say it took over", first.logs, func() bool { return strings.Contains(first.logs(), "this agent takes over the node") })

	msg = startNetnsAgent(t, ns, lockFile, 500*time.Millisecond, true).waitStopped(t, 20*time.Second)
	for _, want := range []string{"another podid agent owns the metadata redirect on this node", "PID " + strconv.Itoa(first.cmd.Process.Pid), "serving 127.0.0.1:2579"} {
		if !strings.Contains(msg, want) {
			t.Errorf("second agent's refusal lacks %q:\n%s", want, msg)
		}
	}

	third := startNetnsAgent(t, ns, lockFile, 30*time.Second, true)
	time.Sleep(time.Second) // it is waiting for the lock
	_ = first.cmd.Process.Signal(syscall.SIGTERM)
	if msg := first.waitStopped(t, 20*time.Second); msg != "<nil>" {
		t.Errorf("first agent stopped with %s", msg)
	}
	third.waitHolding(t, lockFile)
	waitFor(t, "the third agent to serve", third.logs, func() bool { return strings.Contains(third.logs(), "listening address=127.0.0.1:2579") })
	_ = third.cmd.Process.Signal(syscall.SIGTERM)
	if msg := third.waitStopped(t, 20*time.Second); msg != "<nil>" {
		t.Errorf("third agent stopped with %s\nlog:\n%s", msg, third.logs())
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("lock file after the last agent stopped: %v; want it gone", err)
	}
}

func waitFor(t *testing.T, what string, logs func() string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s; log:\n%s", what, logs())
}

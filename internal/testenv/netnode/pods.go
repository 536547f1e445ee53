package netnode

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/testenv"
)

// PodProcess runs a process in network namespace ns, in a cgroup named
// like a pod's (…/kubepods/pod<uid>), as the node agent finds pods'
// processes on a node, and removes both when the test ends.
func PodProcess(t testing.TB, ns, uid string) {
	t.Helper()
	root := cgroupRoot(t)
	dir := filepath.Join(root, fmt.Sprintf("podid-test-%d", os.Getpid()), "kubepods", "pod"+uid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		testenv.Missing(t, "needs a writable cgroup hierarchy: %v", err)
	}
	t.Cleanup(func() {
		for d := dir; d != root; d = filepath.Dir(d) {
			_ = os.Remove(d) // rmdir; the parents go once empty
		}
	})
	cmd := exec.Command("ip", "netns", "exec", ns, "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// ip netns exec execs sleep in place: the PID is the sleeper's.
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatalf("move process %d into %s: %v", cmd.Process.Pid, dir, err)
	}
	// The namespace switch happens after the start; wait until it has.
	for deadline := time.Now().Add(5 * time.Second); ; {
		a, errA := os.Stat(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "ns", "net"))
		b, errB := os.Stat("/run/netns/" + ns)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never entered namespace %s (%v, %v)", cmd.Process.Pid, ns, errA, errB)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cgroupRoot is a cgroup hierarchy the test may create groups in: v1's
// pids controller, or the v2 unified root.
func cgroupRoot(t testing.TB) string {
	t.Helper()
	for _, d := range []string{"/sys/fs/cgroup/pids", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(d, "cgroup.procs")); err == nil {
			return d
		}
	}
	testenv.Missing(t, "needs a cgroup hierarchy at /sys/fs/cgroup")
	return ""
}

// Run runs a command and fails the test if it fails; it returns the
// combined output.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// DNATPackets reads, in namespace ns, the packet counter of the DNAT rule
// of nat chain chain for source src (an address, or a prefix) and, unless
// empty, interface iface (the "in" column for -i, the physdev match
// otherwise).
func DNATPackets(t testing.TB, ns, chain, src, iface string) int {
	t.Helper()
	if !strings.Contains(src, "/") {
		src += "/32"
	}
	out := Run(t, "ip", "netns", "exec", ns, "iptables", "-t", "nat", "-L", chain, "-v", "-n", "-x")
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		// pkts bytes target prot opt in out source destination [matches]
		if len(f) < 9 || f[2] != "DNAT" || (f[7] != src && f[7]+"/32" != src) {
			continue
		}
		if iface != "" && f[5] != iface && !strings.Contains(l, "--physdev-in "+iface+" ") {
			continue
		}
		return packets(t, f[0], l)
	}
	t.Fatalf("no DNAT rule for %s %s in\n%s", src, iface, out)
	return 0
}

// RejectPackets reads, in namespace ns, the packet counter of the REJECT
// rule of filter chain chain.
func RejectPackets(t testing.TB, ns, chain string) int {
	t.Helper()
	out := Run(t, "ip", "netns", "exec", ns, "iptables", "-L", chain, "-v", "-n", "-x")
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[2] == "REJECT" {
			return packets(t, f[0], l)
		}
	}
	t.Fatalf("no REJECT rule in\n%s", out)
	return 0
}

func packets(t testing.TB, field, line string) int {
	t.Helper()
	n, err := strconv.Atoi(field)
	if err != nil {
		t.Fatalf("counter %q in %q", field, line)
	}
	return n
}

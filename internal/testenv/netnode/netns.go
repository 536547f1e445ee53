package netnode

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// IP runs `ip args...` and fails the test if it fails.
func IP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// AddNetns makes a network namespace with lo up and deletes it when the
// test ends (which also deletes the veth ends inside it).
func AddNetns(t testing.TB, name string) {
	t.Helper()
	IP(t, "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	IP(t, "-n", name, "link", "set", "lo", "up")
}

// LinkPod joins pod namespace podNS to node namespace nodeNS with a veth
// pair: hostIf in the node, holding nodeIP/32, and podIf in the pod,
// renamed eth0. Both ends are up; the pod has no address yet (see
// RoutePod).
func LinkPod(t testing.TB, nodeNS, podNS, hostIf, podIf string, nodeIP netip.Addr) {
	t.Helper()
	IP(t, "link", "add", hostIf, "type", "veth", "peer", "name", podIf)
	IP(t, "link", "set", hostIf, "netns", nodeNS)
	IP(t, "link", "set", podIf, "netns", podNS)
	IP(t, "-n", podNS, "link", "set", podIf, "name", "eth0")
	IP(t, "-n", podNS, "link", "set", "eth0", "up")
	IP(t, "-n", nodeNS, "addr", "add", nodeIP.String()+"/32", "dev", hostIf)
	IP(t, "-n", nodeNS, "link", "set", hostIf, "up")
}

// RoutePod gives a pod linked by LinkPod its address podIP, a default
// route through the node at nodeIP, and the node a route back over hostIf.
func RoutePod(t testing.TB, nodeNS, podNS, hostIf, podIP string, nodeIP netip.Addr) {
	t.Helper()
	IP(t, "-n", podNS, "addr", "add", podIP+"/32", "dev", "eth0")
	IP(t, "-n", podNS, "route", "add", nodeIP.String()+"/32", "dev", "eth0")
	IP(t, "-n", podNS, "route", "add", "default", "via", nodeIP.String(), "dev", "eth0")
	IP(t, "-n", nodeNS, "route", "add", podIP+"/32", "dev", hostIf)
}

// Helper is this test binary re-executed in a network namespace; its
// TestMain picks the part to play from the environment.
type Helper struct {
	cmd *exec.Cmd
	// Stdin is the helper's standard input; Stop closes it.
	Stdin io.WriteCloser
	// Lines are the helper's stdout lines; closed when it exits.
	Lines <-chan string
	done  chan error
}

// StartHelper runs this binary in namespace ns with env added to the
// environment; stderr goes to stderr (a file, or nil). When the test ends,
// its stdin is closed and it gets grace to exit before a kill.
func StartHelper(t testing.TB, ns string, env []string, stderr *os.File, grace time.Duration) *Helper {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, self, "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	h := &Helper{cmd: cmd, Stdin: in, Lines: lines, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		h.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = h.Stop(grace) })
	return h
}

// Send writes one line to the helper's stdin.
func (h *Helper) Send(line string) {
	_, _ = fmt.Fprintln(h.Stdin, line)
}

// Stop closes stdin and waits for the helper to exit, killing it after
// grace; it returns the helper's exit error. Calling it again is harmless.
func (h *Helper) Stop(grace time.Duration) error {
	_ = h.Stdin.Close()
	select {
	case err, ok := <-h.done:
		if ok {
			close(h.done)
		}
		return err
	case <-time.After(grace):
		_ = h.cmd.Process.Kill()
		err := <-h.done
		close(h.done)
		return err
	}
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FileTail returns the last n lines of the file at path.
func FileTail(path string, n int) string {
	raw, _ := os.ReadFile(path)
	return Tail(string(raw), n)
}

// FreePort asks the kernel for a free TCP port on ip.
func FreePort(ip string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", ip, err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

package faults

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// addNetns makes a network namespace with lo up and deletes it when the
// test ends (which also deletes the veth ends inside it).
func addNetns(t *testing.T, name string) {
	t.Helper()
	ip(t, "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ip(t, "-n", name, "link", "set", "lo", "up")
}

// helper is this test binary re-executed in a network namespace.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error
}

// startHelper runs this binary in namespace ns with env set; stderr goes
// to stderr (a file, or nil). Its stdout lines arrive on lines. When the
// test ends, its stdin is closed and it gets grace to exit before a kill.
func startHelper(t *testing.T, ns string, env []string, stderr *os.File, grace time.Duration) *helper {
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
	h := &helper{cmd: cmd, stdin: in, lines: make(chan string, 1024), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
		h.done <- cmd.Wait()
	}()
	t.Cleanup(func() { h.stop(grace) })
	return h
}

// stop closes stdin and waits for the helper to exit, killing it after
// grace; it returns the helper's exit error. Calling it again is harmless.
func (h *helper) stop(grace time.Duration) error {
	_ = h.stdin.Close()
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

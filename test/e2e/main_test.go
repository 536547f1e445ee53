package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// podid is the binary built once for the package.
var podid string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podid-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	podid = filepath.Join(dir, "podid")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", podid, "github.com/podid/podid/cmd/podid").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build podid: %v\n%s", err, out)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "built podid in %s\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is one podid run.
type result struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

// run runs podid with args (and extra environment) and waits for it.
func run(t testing.TB, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, podid, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	return result{stdout: out.String(), stderr: errOut.String(), err: err, took: time.Since(start)}
}

// must runs podid and fails the test when it fails.
func must(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, nil, args...)
	if r.err != nil {
		t.Fatalf("podid %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r
}

// processesUsing lists live (non-zombie) processes whose command line
// mentions dir: everything a podid up with that state folder started.
func processesUsing(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
				continue // exited; only its parent can reap it
			}
		}
		out = append(out, pid+" "+strings.ReplaceAll(string(bytes.TrimRight(cmdline, "\x00")), "\x00", " "))
	}
	return out
}

// noneLeft fails the test if a process of the state folder dir still runs.
func noneLeft(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := processesUsing(dir)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left running:\n%s", strings.Join(left, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

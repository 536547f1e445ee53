package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podid/podid/internal/testenv"
)

const helperEnv = "PODID_LEAK_HELPER"

// TestNoProcessOutlivesAKilledTest starts a cluster in a child test process,
// kills that process with SIGKILL (as `go test -timeout` or a CI runner
// would), and checks that etcd, kube-apiserver and kwok die with it.
func TestNoProcessOutlivesAKilledTest(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStartClusterAndWait$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "PIDS "); ok {
			if err := json.Unmarshal([]byte(line), &pids); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if len(pids) != 3 {
		_ = cmd.Process.Kill()
		t.Fatalf("child reported PIDs %v, want etcd, kube-apiserver and kwok", pids)
	}
	for name, pid := range pids {
		if !alive(pid) {
			t.Fatalf("%s (pid %d) is not running before the kill", name, pid)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for name, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("%s (pid %d) outlived the killed test process", name, pid)
		}
	}
}

// TestHelperStartClusterAndWait is the child of the test above; it does
// nothing unless started by it.
func TestHelperStartClusterAndWait(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("runs only as the child of TestNoProcessOutlivesAKilledTest")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := testenv.Start(ctx, testenv.Options{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	b, _ := json.Marshal(e.PIDs())
	os.Stdout.WriteString("PIDS " + string(b) + "\n")
	<-ctx.Done() // the parent kills us long before this
}

// alive reports whether pid runs and is not a zombie waiting to be reaped.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

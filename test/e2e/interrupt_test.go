package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

func TestCtrlCStopsAForegroundUp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(podid, "up", "--state-dir", dir, "--nodes", "1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})

	deadline := time.After(5 * time.Minute)
	var rec *plan.Record
	for rec == nil || !rec.Ready {
		select {
		case err := <-done:
			t.Fatalf("podid up exited early: %v\n%s", err, errOut.String())
		case <-deadline:
			t.Fatalf("podid up not ready:\n%s", errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
		rec, _ = runstate.Read(plan.RecordFile(dir))
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("podid up exited with %v after Ctrl-C:\n%s", err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("podid up did not stop within 30s of Ctrl-C")
	}
	for _, p := range rec.Processes {
		if runstate.Alive(p) {
			t.Errorf("%s (pid %d) outlived Ctrl-C", p.Name, p.PID)
		}
	}
	noneLeft(t, dir)
	if !strings.Contains(out.String(), "Ctrl-C stops everything") || !strings.Contains(errOut.String(), "msg=stopped") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}

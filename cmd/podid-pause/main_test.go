//go:build unix

package main

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestExitsZeroOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the command")
	}
	bin := filepath.Join(t.TempDir(), "pause")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Give it time to install its handlers: a SIGTERM before that would
	// kill it with the default action, not exit 0.
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("pause exited without a signal: %v", err)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("pause ended with %v on SIGTERM, want exit 0", err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("pause did not exit on SIGTERM")
	}
}

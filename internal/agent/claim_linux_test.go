//go:build linux

package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/agent/netrules"
)

// The test binary doubles as the agents these tests start: with claimEnv
// it claims the node as an agent would and holds the claim until stdin
// closes; with runEnv it is a whole agent (runAgent, in the
// network-namespace test).
const (
	claimEnv = "PODID_AGENT_CLAIM_HELPER"
	runEnv   = "PODID_AGENT_RUN_HELPER"
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(claimEnv) != "":
		os.Exit(runClaimHelper(os.Getenv(claimEnv)))
	case os.Getenv(runEnv) != "":
		os.Exit(runAgentHelper())
	}
	os.Exit(m.Run())
}

// claimOptions are an agent's options for the lock tests: only what
// claimNode reads.
func claimOptions(lockFile, listen string, wait time.Duration) *Options {
	o := NewOptions()
	o.NodeIP = "10.240.0.4"
	o.ListenAddress = listen
	o.LockFile = lockFile
	o.LockWait = wait
	o.Pod = "kube-system/other-nmi-x7k2p"
	return o
}

// noForeignRules stands in for a node whose nat table is podid's alone.
func noForeignRules(netip.AddrPort) (netrules.NAT, error) { return netrules.NAT{}, nil }

func runClaimHelper(lockFile string) int {
	release, err := claimNode(context.Background(), claimOptions(lockFile, ":2580", 0), slog.New(slog.DiscardHandler), noForeignRules, whileRefused{})
	if err != nil {
		fmt.Println("refused:", err)
		return 1
	}
	fmt.Println("claimed")
	_, _ = io.Copy(io.Discard, os.Stdin)
	release()
	return 0
}

// TestASecondAgentRefusesUntilTheFirstExits runs one agent's claim in a
// child process: a second agent on the same lock file is refused with the
// first's PID, address and pod; one that waits starts as soon as the first
// exits, as in a rolling update.
func TestASecondAgentRefusesUntilTheFirstExits(t *testing.T) {
	lockFile := filepath.Join(t.TempDir(), "nmi.lock")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	first := exec.Command(self, "-test.run=^$")
	first.Env = append(os.Environ(), claimEnv+"="+lockFile)
	stdin, _ := first.StdinPipe()
	stdout, _ := first.StdoutPipe()
	first.Stderr = os.Stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Process.Kill(); _ = first.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "claimed\n" {
		t.Fatalf("first agent: %q", line)
	}

	ctx := context.Background()
	_, err = claimNode(ctx, claimOptions(lockFile, ":2579", 300*time.Millisecond), slog.New(slog.DiscardHandler), noForeignRules, whileRefused{})
	if err == nil {
		t.Fatal("a second agent claimed the node while the first held it")
	}
	for _, want := range []string{"another podid agent owns the metadata redirect", "PID " + strconv.Itoa(first.Process.Pid),
		"serving 10.240.0.4:2580", "pod kube-system/other-nmi-x7k2p", "within 300ms", "helm uninstall <release>"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}

	var logs bytes.Buffer
	claimed := make(chan error, 1)
	var release func()
	go func() {
		var err error
		release, err = claimNode(ctx, claimOptions(lockFile, ":2579", 20*time.Second), slog.New(slog.NewTextHandler(&logs, nil)), noForeignRules, whileRefused{})
		claimed <- err
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-claimed:
		t.Fatalf("the waiting agent did not wait for the first: %v", err)
	default:
	}
	exited := time.Now()
	_ = stdin.Close() // the first agent stops
	if err := first.Wait(); err != nil {
		t.Fatalf("first agent: %v", err)
	}
	if err := <-claimed; err != nil {
		t.Fatalf("the waiting agent, after the first exited: %v", err)
	}
	if took := time.Since(exited); took > 5*time.Second {
		t.Errorf("the waiting agent took %s after the first exited", took)
	}
	if !strings.Contains(logs.String(), "waiting for the agent holding the node lock to stop") {
		t.Errorf("the waiting agent did not say why it waits:\n%s", logs.String())
	}
	content, _ := os.ReadFile(lockFile)
	if !strings.Contains(string(content), "pid="+strconv.Itoa(os.Getpid())+"\n") {
		t.Errorf("lock file after the second agent started:\n%s", content)
	}
	release()
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("lock file after release: %v; want it gone", err)
	}
}

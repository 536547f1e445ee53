package runstate

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/podid/podid/internal/plan"
)

func TestLockRefusesASecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "up.lock")
	if Held(path) {
		t.Fatal("a lock nobody took is held")
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	if !Held(path) {
		t.Fatal("Held is false while the lock is taken")
	}
	l.Release()
	if Held(path) {
		t.Fatal("Held after Release")
	}
}

func TestRecordRoundTrips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "up.json")
	if _, err := Read(path); !errors.Is(err, ErrNoRecord) {
		t.Fatalf("Read of nothing: %v", err)
	}
	in := &plan.Record{Kubeconfig: "k", Agents: map[string]string{"n": "127.32.0.1:2579"}, Processes: []plan.Process{{Name: "etcd", PID: 42}}}
	if err := Write(path, in); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kubeconfig != "k" || got.Agents["n"] != "127.32.0.1:2579" || got.Processes[0].PID != 42 {
		t.Fatalf("read back %+v", got)
	}
}

func TestAliveTellsARecordedProcessFromAReusedPID(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := Describe(plan.Process{Name: "sleep", PID: cmd.Process.Pid})
	if !Alive(p) {
		t.Fatal("a running child is not alive")
	}
	other := p
	other.StartTicks++
	if Alive(other) && p.StartTicks != 0 {
		t.Fatal("a process with another start time counts as the recorded one")
	}
	if err := Signal(other, 9); err != nil {
		t.Fatal(err)
	}
	if !Alive(p) {
		t.Fatal("Signal reached a process whose start time differs")
	}
	if err := Signal(p, 9); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if Alive(p) {
		t.Fatal("a killed and reaped child is alive")
	}
	if Alive(plan.Process{PID: os.Getpid() + 1<<22}) {
		t.Fatal("an absent PID is alive")
	}
}

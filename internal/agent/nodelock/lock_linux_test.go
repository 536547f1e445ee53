//go:build linux

package nodelock

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestASecondLockIsRefusedNamingTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "podid")
	path := filepath.Join(dir, "nmi.lock")
	first, err := TryLock(path, Self("10.240.0.4:2580", "kube-system/other-nmi-x7k2p", ""))
	if err != nil {
		t.Fatal(err)
	}
	// flock(2) locks belong to the open file, so a second TryLock in this
	// process is refused just as another process's would be.
	_, err = TryLock(path, Self("10.240.0.4:2579", "", ""))
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("TryLock while the lock is held: %v; want a HeldError", err)
	}
	if held.Holder.PID != os.Getpid() || held.Holder.Address != "10.240.0.4:2580" || held.Holder.Pod != "kube-system/other-nmi-x7k2p" {
		t.Fatalf("holder %+v; want the first's PID, address and pod", held.Holder)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "serving 10.240.0.4:2580") {
		t.Fatalf("error %q does not name the file and the holder", err)
	}

	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	second, err := TryLock(path, Self("10.240.0.4:2579", "", ""))
	if err != nil {
		t.Fatalf("TryLock after the holder released: %v", err)
	}
	content, _ := os.ReadFile(path)
	if got := parseHolder(content); got.Address != "10.240.0.4:2579" || got.Pod != "" {
		t.Fatalf("lock file names %+v; want the second holder alone", got)
	}
	if err := second.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the lock's folder, created by TryLock, is still there after Release: %v", err)
	}
}

// A process that locks the file by other means (flock(1)) holds the lock
// until it is killed, and the kernel releases it then, although its file
// stays.
func TestAKilledHolderReleasesTheLock(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1)")
	}
	path := filepath.Join(t.TempDir(), "nmi.lock")
	// One process holds the lock: the shell opens the file, flock(1)
	// locks that open file and exits, and sleep replaces the shell,
	// keeping the file open.
	holder := exec.Command("sh", "-c", `exec 9>"$0" && flock 9 && echo locked && exec sleep 60`, path)
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("flock(1): %q", line)
	}
	var held *HeldError
	if err := tryAndRelease(t, path); !errors.As(err, &held) {
		t.Fatalf("TryLock while flock(1) holds the lock: %v; want a HeldError", err)
	}
	if held.Holder.String() != "PID unknown" {
		t.Errorf("a holder that wrote nothing is named %q", held.Holder)
	}
	_ = holder.Process.Kill()
	_ = holder.Wait()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the killed holder's file: %v; want it left behind (the test would prove nothing)", err)
	}
	if err := tryAndRelease(t, path); err != nil {
		t.Fatalf("TryLock after the holder was killed: %v", err)
	}
}

// tryAndRelease takes and gives back the lock, returning TryLock's error.
func tryAndRelease(t *testing.T, path string) error {
	t.Helper()
	l, err := TryLock(path, Self("", "", ""))
	if err != nil {
		return err
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	return nil
}

// Holders that release (deleting the file) while others are locking must
// never leave two holders at once: a lock taken on a deleted file is
// retried on the new one.
func TestNeverTwoHolders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nmi.lock")
	var holders, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				l, err := TryLock(path, Self("", "", ""))
				var held *HeldError
				if errors.As(err, &held) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				n := holders.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				holders.Add(-1)
				if err := l.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if m := most.Load(); m != 1 {
		t.Fatalf("at most %d holders at once; want 1", m)
	}
}

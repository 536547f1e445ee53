//go:build linux

package nodelock

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/podid/podid/internal/agent/peer"
)

// Lock is the node lock, held until Release.
type Lock struct {
	f    *os.File
	path string
	// madeDir is the lock's folder when TryLock created it: Release
	// removes it again once empty, so a run leaves nothing behind.
	madeDir string
}

// maxReplaced bounds how often TryLock retries a lock file that a
// releasing holder deleted under it.
const maxReplaced = 100

// TryLock takes the lock at path without waiting and writes me into the
// file. When another process holds it, it returns a *HeldError naming that
// process as its file says.
func TryLock(path string, me Holder) (*Lock, error) {
	dir := filepath.Dir(path)
	madeDir := ""
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		madeDir = dir
	}
	for range maxReplaced {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create the node lock's folder %s: %w", dir, err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a releasing holder removed the folder just now
		}
		if err != nil {
			return nil, fmt.Errorf("open the node lock %s: %w", path, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			held := errors.Is(err, unix.EWOULDBLOCK)
			content, _ := io.ReadAll(f)
			_ = f.Close()
			if held {
				return nil, &HeldError{Path: path, Holder: withPod(parseHolder(content))}
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// A holder deletes the file before it unlocks (Release), so a
		// lock taken on a file no longer at path is worthless: another
		// agent may hold the new one.
		if !samefile(f, path) {
			_ = f.Close()
			continue
		}
		if err := f.Truncate(0); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("write the node lock %s: %w", path, err)
		}
		if _, err := f.WriteAt(me.marshal(), 0); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("write the node lock %s: %w", path, err)
		}
		return &Lock{f: f, path: path, madeDir: madeDir}, nil
	}
	return nil, fmt.Errorf("lock %s: the file was replaced %d times while locking it", path, maxReplaced)
}

func samefile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// Release deletes the lock file and unlocks it, in that order (see
// TryLock). Exiting releases the lock too, but leaves the file.
func (l *Lock) Release() error {
	rmErr := os.Remove(l.path)
	if errors.Is(rmErr, fs.ErrNotExist) {
		rmErr = nil
	}
	err := errors.Join(rmErr, l.f.Close())
	if l.madeDir != "" {
		_ = os.Remove(l.madeDir) // only if empty: another agent may be locking
	}
	if err != nil {
		return fmt.Errorf("release the node lock %s: %w", l.path, err)
	}
	return nil
}

// Self is this process as a holder: its PID and PID namespace, and what
// the caller knows of its address and pod.
func Self(address, pod, podUID string) Holder {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return Holder{PID: os.Getpid(), PIDNamespace: ns, Address: address, Pod: pod, PodUID: podUID}
}

// withPod fills in the holder's pod UID from /proc/PID/cgroup when the
// holder did not write it and its PID means the same process here (same
// PID namespace: hostPID pods, or processes on the host).
func withPod(h Holder) Holder {
	if h.PodUID != "" || h.PID <= 0 || h.PIDNamespace == "" {
		return h
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err != nil || ns != h.PIDNamespace {
		return h
	}
	if cg, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(h.PID), "cgroup")); err == nil {
		h.PodUID = peer.PodUIDFromCgroup(string(cg))
	}
	return h
}

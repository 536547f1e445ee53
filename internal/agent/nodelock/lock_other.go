//go:build !linux

package nodelock

import (
	"errors"
	"runtime"
)

// Lock is the node lock; it exists on Linux only.
type Lock struct{}

// TryLock fails: the agent manages iptables on Linux only.
func TryLock(string, Holder) (*Lock, error) {
	return nil, errors.New("the node lock is not supported on " + runtime.GOOS)
}

// Release does nothing.
func (*Lock) Release() error { return nil }

// Self is this process as a holder.
func Self(address, pod, podUID string) Holder {
	return Holder{Address: address, Pod: pod, PodUID: podUID}
}

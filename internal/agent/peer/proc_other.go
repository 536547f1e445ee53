//go:build !linux

package peer

import (
	"errors"
	"net/netip"
	"runtime"
)

// Process is the local process behind a connection.
type Process struct {
	PID    int
	UID    int
	PodUID string
}

// Of fails: the kernel tables it reads exist on Linux only.
func Of(client, server netip.AddrPort) (Process, error) {
	return Process{}, errors.New("finding a connection's process is not supported on " + runtime.GOOS)
}

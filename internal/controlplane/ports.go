package controlplane

import (
	"fmt"
	"net"
)

// freePort asks the kernel for an unused loopback port. Another process can
// take it before the child binds it; the child then fails to start and the
// error says which port, which is rare enough to be worth the simplicity.
// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

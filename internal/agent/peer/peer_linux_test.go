//go:build linux

package peer

import (
	"net"
	"net/netip"
	"os"
	"testing"
)

// TestOfFindsThisProcess opens a real loopback connection and asks who is
// on the other end: this test process.
func TestOfFindsThisProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn := <-accepted
	if conn == nil {
		t.Fatal("no connection accepted")
	}
	defer conn.Close()
	remote := netip.MustParseAddrPort(conn.RemoteAddr().String())
	local := netip.MustParseAddrPort(conn.LocalAddr().String())
	p, err := Of(remote, local)
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != os.Getpid() || p.UID != os.Getuid() {
		t.Fatalf("PID %d, UID %d; want this process %d, %d", p.PID, p.UID, os.Getpid(), os.Getuid())
	}
	if _, err := Of(netip.MustParseAddrPort("127.0.0.1:1"), local); err == nil {
		t.Fatal("found a process for a connection that does not exist")
	}
}

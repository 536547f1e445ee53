package controlplane

import (
	"net"
	"strconv"
	"testing"
)

// A port from FreePort must not be one the kernel may hand out as the source
// port of an outgoing connection, and it must be bindable.
func TestFreePortIsBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for range 20 {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if port >= low || port < 1024 {
			t.Fatalf("FreePort gave %d; want 1024 <= port < %d (the ephemeral range starts there)", port, low)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("port %d from FreePort cannot be bound: %v", port, err)
		}
		l.Close()
	}
}

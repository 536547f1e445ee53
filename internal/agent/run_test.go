package agent

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTokenServerLimits serves the agent's token server on loopback and
// sends what a misbehaving pod could: an oversized header block is refused
// without reaching the handler, and the write timeout leaves room for the
// longest answer the handler may owe.
func TestTokenServerLimits(t *testing.T) {
	opts := NewOptions()
	var reached atomic.Int32
	srv := tokenServer(opts, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached.Add(1) }))
	if min := opts.AssignmentWait + opts.TokenTimeout; srv.WriteTimeout <= min {
		t.Fatalf("write timeout %s would cut off an answer that waited %s", srv.WriteTimeout, min)
	}
	if srv.ReadTimeout == 0 || srv.IdleTimeout == 0 {
		t.Fatalf("read timeout %s, idle timeout %s: want both set", srv.ReadTimeout, srv.IdleTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET /metadata/identity/oauth2/token HTTP/1.1\r\nHost: x\r\nMetadata: true\r\nX-Pad: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "431") {
		t.Fatalf("status line %q, want 431 Request Header Fields Too Large", status)
	}
	if reached.Load() != 0 {
		t.Fatal("the oversized request reached the handler")
	}
}

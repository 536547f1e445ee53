package tunnel

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A spliced tunnel carries bytes both ways, buffered ones first; closing
// the set ends it, and a set once closed refuses new tunnels.
func TestSpliceAndClose(t *testing.T) {
	var s Set
	clientSide, client := net.Pipe()
	upstream, upstreamSide := net.Pipe()
	if !s.Splice(client, strings.NewReader("early "), upstream) {
		t.Fatal("an open set refused a tunnel")
	}
	go func() { _, _ = clientSide.Write([]byte("hello")) }()
	buf := make([]byte, len("early hello"))
	if _, err := io.ReadFull(upstreamSide, buf); err != nil || string(buf) != "early hello" {
		t.Fatalf("upstream read %q, %v", buf, err)
	}
	go func() { _, _ = upstreamSide.Write([]byte("back")) }()
	back := make([]byte, 4)
	if _, err := io.ReadFull(clientSide, back); err != nil || string(back) != "back" {
		t.Fatalf("client read %q, %v", back, err)
	}
	done := make(chan bool)
	go func() { done <- s.Close() }()
	select {
	case first := <-done:
		if !first {
			t.Error("the first Close reported the set closed already")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the open tunnel")
	}
	if _, err := clientSide.Read(back); err == nil {
		t.Error("the client's side is still open after Close")
	}
	if s.Close() {
		t.Error("a second Close reported closing the set")
	}
	a, b := net.Pipe()
	if s.Splice(a, nil, b) {
		t.Error("a closed set took a tunnel")
	}
	if _, err := a.Write([]byte("x")); err == nil {
		t.Error("a refused tunnel's connections must be closed")
	}
}

// Package tunnel splices the two sides of an HTTP CONNECT tunnel and keeps
// the open tunnels of a proxy, so that closing the proxy ends them all.
package tunnel

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Set is the open tunnels of one proxy. The zero value is ready to use.
type Set struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Splice copies client → upstream (after buffered, the bytes the client
// sent behind its CONNECT) and upstream → client until either side ends,
// then closes both. Once the set is closed it closes both at once and
// returns false.
func (s *Set) Splice(client net.Conn, buffered io.Reader, upstream net.Conn) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = client.Close()
		_ = upstream.Close()
		return false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[client], s.conns[upstream] = struct{}{}, struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	if buffered == nil {
		buffered = client
	} else {
		buffered = io.MultiReader(buffered, client)
	}
	go s.pipe(upstream, buffered, client, upstream)
	go s.pipe(client, upstream, client, upstream)
	return true
}

// pipe copies one direction; when it ends, both sides close, which ends
// the other direction too.
func (s *Set) pipe(dst io.Writer, src io.Reader, a, b net.Conn) {
	defer s.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = a.Close()
	_ = b.Close()
	s.mu.Lock()
	delete(s.conns, a)
	delete(s.conns, b)
	s.mu.Unlock()
}

// Close ends every tunnel and waits for their copies to stop; it reports
// whether this call closed the set (false when it was closed already).
func (s *Set) Close() bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
	return true
}

// Connect answers an HTTP CONNECT: it dials target within dialTimeout,
// takes over the client's connection, says the tunnel is established and
// splices the two. A failed dial is a 502 whose text starts with what.
func (s *Set) Connect(w http.ResponseWriter, r *http.Request, target string, dialTimeout time.Duration, what string) {
	ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
	up, err := (&net.Dialer{}).DialContext(ctx, "tcp", target)
	cancel()
	if err != nil {
		http.Error(w, fmt.Sprintf("%s: %v", what, err), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "cannot tunnel on this connection", http.StatusInternalServerError)
		return
	}
	down, rw, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	if _, err := io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		_ = up.Close()
		_ = down.Close()
		return
	}
	// Bytes the client sent after the CONNECT may sit in rw's buffer.
	s.Splice(down, rw.Reader, up)
}

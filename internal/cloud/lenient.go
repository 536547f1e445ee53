package cloud

import (
	"bytes"
	"crypto/tls"
	"net"
	"regexp"
	"time"
)

// ARM's generated Go clients append $filter values to the query unencoded
// ("$filter=principalId eq '…'"), which Azure's front end tolerates but
// net/http's HTTP/1 request-line parser refuses. lenientListener repairs such
// request lines by percent-encoding the spaces inside the request target.
// (Over HTTP/2 the path travels in a header and needs no repair.)

var requestLineRE = regexp.MustCompile(`^(GET|PUT|POST|PATCH|DELETE|HEAD|OPTIONS) (/.*) (HTTP/1\.[01])\r?\n$`)

var methodPrefixes = [][]byte{[]byte("GET /"), []byte("PUT /"), []byte("POST /"), []byte("PATCH /"), []byte("DELETE /"), []byte("HEAD /"), []byte("OPTIONS /")}

// lenientListener wraps a TLS listener. It completes the handshake itself
// (bounded by handshakeTimeout; the emulator serves loopback clients only):
// HTTP/2 connections are returned as they are, HTTP/1 ones wrapped.
type lenientListener struct{ net.Listener }

const handshakeTimeout = 5 * time.Second

func (l lenientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*tls.Conn)
		if !ok {
			return &lenientConn{Conn: c, lineStart: true}, nil
		}
		_ = tc.SetDeadline(time.Now().Add(handshakeTimeout))
		err = tc.Handshake()
		_ = tc.SetDeadline(time.Time{})
		if err != nil {
			_ = tc.Close()
			continue
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return tc, nil
		}
		return &lenientConn{Conn: tc, lineStart: true}, nil
	}
}

type lenientConn struct {
	net.Conn
	in, out   []byte
	lineStart bool
	buf       [16 << 10]byte
}

func (c *lenientConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		n, err := c.Conn.Read(c.buf[:])
		c.in = append(c.in, c.buf[:n]...)
		c.process(err != nil)
		if err != nil && len(c.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// process moves c.in to c.out, repairing request lines; it holds back a
// partial line only while it may still become a request line.
func (c *lenientConn) process(final bool) {
	for len(c.in) > 0 {
		nl := bytes.IndexByte(c.in, '\n')
		if c.lineStart && mayBeRequestLine(c.in) {
			if nl < 0 {
				if !final && len(c.in) < 8<<10 {
					return
				}
				nl = len(c.in) - 1
			}
			c.out = append(c.out, repairRequestLine(c.in[:nl+1])...)
			c.in = c.in[nl+1:]
			c.lineStart = true
			continue
		}
		if nl < 0 {
			c.out = append(c.out, c.in...)
			c.in = c.in[:0]
			c.lineStart = false
			return
		}
		c.out = append(c.out, c.in[:nl+1]...)
		c.in = c.in[nl+1:]
		c.lineStart = true
	}
}

func mayBeRequestLine(b []byte) bool {
	for _, m := range methodPrefixes {
		n := min(len(b), len(m))
		if bytes.Equal(b[:n], m[:n]) {
			return true
		}
	}
	return false
}

func repairRequestLine(line []byte) []byte {
	m := requestLineRE.FindSubmatch(line)
	if m == nil || !bytes.Contains(m[2], []byte(" ")) {
		return line
	}
	target := bytes.ReplaceAll(m[2], []byte(" "), []byte("%20"))
	end := []byte("\n")
	if bytes.HasSuffix(line, []byte("\r\n")) {
		end = []byte("\r\n")
	}
	return bytes.Join([][]byte{m[1], []byte(" "), target, []byte(" "), m[3], end}, nil)
}

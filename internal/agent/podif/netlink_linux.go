//go:build linux

package podif

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// netlinkConn is a NETLINK_ROUTE socket for the two questions podif asks:
// the links of the namespace the socket is in, and the ID that namespace
// gives another one.
type netlinkConn struct {
	fd  int
	seq atomic.Uint32
}

func openNetlink() (*netlinkConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("bind netlink socket: %w", err)
	}
	return &netlinkConn{fd: fd}, nil
}

func (c *netlinkConn) close() { _ = unix.Close(c.fd) }

// request sends one message and returns the answer's messages up to
// NLMSG_DONE (a dump) or the first answer (a get), failing on NLMSG_ERROR.
func (c *netlinkConn) request(typ uint16, flags uint16, body []byte) ([][]byte, error) {
	seq := c.seq.Add(1)
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	msg = append(msg, body...)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], typ)
	ne.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST)
	ne.PutUint32(msg[8:], seq)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("send netlink request: %w", err)
	}
	dump := flags&unix.NLM_F_DUMP != 0
	var out [][]byte
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("read netlink answer: %w", err)
		}
		b := buf[:n]
		for len(b) >= unix.NLMSG_HDRLEN {
			l := int(ne.Uint32(b[0:]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return nil, errors.New("malformed netlink answer")
			}
			m := b[:l]
			b = b[min(nlmAlign(l), len(b)):]
			if ne.Uint32(m[8:]) != seq {
				continue // an answer to an earlier, abandoned request
			}
			switch ne.Uint16(m[4:]) {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m) < unix.NLMSG_HDRLEN+4 {
					return nil, errors.New("malformed netlink error")
				}
				if errno := int32(ne.Uint32(m[unix.NLMSG_HDRLEN:])); errno != 0 {
					return nil, unix.Errno(-errno)
				}
				return out, nil // an acknowledgement
			default:
				out = append(out, append([]byte(nil), m[unix.NLMSG_HDRLEN:]...))
				if !dump {
					return out, nil
				}
			}
		}
	}
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

func rtaAlign(n int) int { return (n + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1) }

// attrs splits a run of route attributes by type (the last one of a type
// wins; none of those read repeats).
func attrs(b []byte) map[uint16][]byte {
	out := map[uint16][]byte{}
	ne := binary.NativeEndian
	for len(b) >= unix.SizeofRtAttr {
		l := int(ne.Uint16(b[0:]))
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		out[ne.Uint16(b[2:])&^unix.NLA_F_NESTED] = b[unix.SizeofRtAttr:l]
		b = b[min(rtaAlign(l), len(b)):]
	}
	return out
}

// links dumps the namespace's links (RTM_GETLINK).
func (c *netlinkConn) links() ([]Link, error) {
	msgs, err := c.request(unix.RTM_GETLINK, unix.NLM_F_DUMP, make([]byte, unix.SizeofIfInfomsg))
	if err != nil {
		return nil, err
	}
	ne := binary.NativeEndian
	var out []Link
	for _, m := range msgs {
		if len(m) < unix.SizeofIfInfomsg {
			continue
		}
		a := attrs(m[unix.SizeofIfInfomsg:])
		l := Link{Index: int32(ne.Uint32(m[4:])), PeerNetns: NoNetns}
		if name := a[unix.IFLA_IFNAME]; len(name) > 0 {
			l.Name = cString(name)
		}
		if v := a[unix.IFLA_MASTER]; len(v) >= 4 {
			l.Master = int32(ne.Uint32(v))
		}
		if v := a[unix.IFLA_LINK_NETNSID]; len(v) >= 4 {
			l.PeerNetns = int32(ne.Uint32(v))
		}
		if info := a[unix.IFLA_LINKINFO]; info != nil {
			if kind := attrs(info)[unix.IFLA_INFO_KIND]; kind != nil {
				l.Kind = cString(kind)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// nsid returns the ID the socket's namespace gives the network namespace
// at path (RTM_GETNSID), NoNetns when it has none: then no link of this
// namespace has its peer there.
func (c *netlinkConn) nsid(path string) (int32, error) {
	f, err := os.Open(path)
	if err != nil {
		return NoNetns, err
	}
	defer f.Close()
	ne := binary.NativeEndian
	// struct rtgenmsg (padded to 4 bytes), then NETNSA_FD.
	body := make([]byte, 4+unix.SizeofRtAttr+4)
	body[0] = unix.AF_UNSPEC
	ne.PutUint16(body[4:], unix.SizeofRtAttr+4)
	ne.PutUint16(body[6:], unix.NETNSA_FD)
	ne.PutUint32(body[8:], uint32(f.Fd()))
	msgs, err := c.request(unix.RTM_GETNSID, 0, body)
	if err != nil {
		return NoNetns, err
	}
	for _, m := range msgs {
		if len(m) < 4 {
			continue
		}
		if v := attrs(m[4:])[unix.NETNSA_NSID]; len(v) >= 4 {
			if id := int32(ne.Uint32(v)); id >= 0 {
				return id, nil
			}
		}
	}
	return NoNetns, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

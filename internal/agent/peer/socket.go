package peer

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// ErrNotFound means no socket or process matched.
var ErrNotFound = errors.New("no matching socket or process")

// socketInode finds, in a /proc/net/tcp or tcp6 listing, the inode and the
// owner's user ID of the socket whose local address is local and remote
// address is remote.
func socketInode(r io.Reader, local, remote netip.AddrPort) (inode uint64, uid int, err error) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	first := true
	for s.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(s.Text())
		if len(f) < 10 {
			continue
		}
		l, err1 := parseProcAddr(f[1])
		rm, err2 := parseProcAddr(f[2])
		if err1 != nil || err2 != nil || l != local || rm != remote {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil || inode == 0 {
			continue
		}
		uid, err := strconv.Atoi(f[7])
		if err != nil {
			continue
		}
		return inode, uid, nil
	}
	if err := s.Err(); err != nil {
		return 0, 0, fmt.Errorf("read socket table: %w", err)
	}
	return 0, 0, ErrNotFound
}

// parseProcAddr reads "0100007F:1F90" (IPv4) or the 32-hex-digit IPv6 form:
// the address as the kernel stores it, 32-bit words in host (little-endian)
// order, and the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q has no port", s)
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q is not an IP", s)
	}
	for i := 0; i < len(raw); i += 4 { // each 32-bit word is little-endian
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port of %q: %w", s, err)
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}

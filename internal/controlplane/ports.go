package controlplane

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
//
// It picks below the kernel's ephemeral range on purpose. A port the kernel
// hands out for "listen on :0" comes from the same range as the source ports
// of outgoing connections, and with several control planes running at once
// (parallel tests) some client's connection took etcd's port between the
// check and etcd's bind. Ports below that range are never used as source
// ports, so only another FreePort caller can race for one, and the random
// pick over thousands of ports makes that rare.
func FreePort() (int, error) {
	low := ephemeralLow()
	const span = 12000
	base := max(low-span, 1024)
	for range 64 {
		port := base + rand.IntN(low-base)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	// Everything below the range busy: fall back to the kernel's choice.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default 32768 when the file cannot be read or makes no sense).
func ephemeralLow() int {
	const fallback = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return fallback
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 2048 {
		return fallback
	}
	return n
}

package faults

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podid/podid/internal/testenv/netnode"
)

// imdsBehindNode gives node namespace nodeNS an uplink (upIf) to imdsNS
// (imdsIf), as a VM reaches its IMDS, routes 169.254.169.254 over it, and
// starts the IMDS stand-in there, which reports every request it gets:
// each one is a leak. hitsIn counts those that arrived in [from, to).
func imdsBehindNode(t *testing.T, nodeNS, imdsNS, upIf, imdsIf string) (hitsIn func(from, to time.Time) int) {
	t.Helper()
	netnode.IP(t, "link", "add", upIf, "type", "veth", "peer", "name", imdsIf)
	netnode.IP(t, "link", "set", upIf, "netns", nodeNS)
	netnode.IP(t, "link", "set", imdsIf, "netns", imdsNS)
	netnode.IP(t, "-n", nodeNS, "addr", "add", "10.252.9.1/24", "dev", upIf)
	netnode.IP(t, "-n", nodeNS, "link", "set", upIf, "up")
	netnode.IP(t, "-n", imdsNS, "addr", "add", "10.252.9.2/24", "dev", imdsIf)
	netnode.IP(t, "-n", imdsNS, "link", "set", imdsIf, "up")
	netnode.IP(t, "-n", imdsNS, "addr", "add", "169.254.169.254/32", "dev", "lo")
	netnode.IP(t, "-n", imdsNS, "route", "add", "default", "via", "10.252.9.1")
	netnode.IP(t, "-n", nodeNS, "route", "add", "169.254.169.254/32", "via", "10.252.9.2")

	imds := netnode.StartHelper(t, imdsNS, []string{imdsEnv + "=1"}, os.Stderr, 5*time.Second)
	if l := <-imds.Lines; l != "ready" {
		t.Fatalf("IMDS stand-in: %q", l)
	}
	var hitsMu sync.Mutex
	var hits []time.Time
	go func() {
		for l := range imds.Lines {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "HIT" {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				hitsMu.Lock()
				hits = append(hits, time.Unix(0, ns))
				hitsMu.Unlock()
			}
		}
	}()
	return func(from, to time.Time) int {
		hitsMu.Lock()
		defer hitsMu.Unlock()
		n := 0
		for _, h := range hits {
			if !h.Before(from) && h.Before(to) {
				n++
			}
		}
		return n
	}
}

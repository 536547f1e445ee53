//go:build linux

package podif

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/podid/podid/internal/agent/peer"
)

// Discover reads the host's links, the pods' network namespaces from the
// processes under proc (normally "/proc", the host's, so the agent needs
// the host PID namespace) and whether iptables sees bridge ports. It must
// run in the host's network namespace.
func Discover(proc string) (Found, error) {
	nl, err := openNetlink()
	if err != nil {
		return Found{}, err
	}
	defer nl.close()
	// Links first: listing a link whose peer is in another namespace gives
	// that namespace an ID, which the lookups below then find.
	links, err := nl.links()
	if err != nil {
		return Found{}, fmt.Errorf("list links: %w", err)
	}
	sandboxes, err := sandboxes(proc, nl)
	if err != nil {
		return Found{}, err
	}
	return Found{Links: links, Sandboxes: sandboxes, Physdev: physdev(proc)}, nil
}

// nsKey identifies a network namespace by its nsfs inode.
type nsKey struct{ dev, ino uint64 }

// sandboxes maps the pod UID of every process in a pod to the IDs of its
// network namespaces. Processes that exit meanwhile are skipped.
func sandboxes(proc string, nl *netlinkConn) (map[string][]int32, error) {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	type ns struct {
		path string // /proc/<pid>/ns/net of one of its processes
		uids []string
	}
	byNS := map[nsKey]*ns{}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cg, err := os.ReadFile(filepath.Join(proc, e.Name(), "cgroup"))
		if err != nil {
			continue // exited, or not ours to read
		}
		uid := peer.PodUIDFromCgroup(string(cg))
		if uid == "" {
			continue // a node process
		}
		path := filepath.Join(proc, e.Name(), "ns", "net")
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			continue // exited, or not inspectable without CAP_SYS_PTRACE
		}
		k := nsKey{uint64(st.Dev), st.Ino} //nolint:unconvert // Dev is uint32 on some architectures
		n := byNS[k]
		if n == nil {
			n = &ns{path: path}
			byNS[k] = n
		}
		if !slices.Contains(n.uids, uid) {
			n.uids = append(n.uids, uid)
		}
	}
	out := map[string][]int32{}
	for _, n := range byNS {
		id, err := nl.nsid(n.path)
		var open *os.PathError
		if errors.As(err, &open) {
			continue // the process exited, or may not be inspected
		}
		if err != nil {
			return nil, fmt.Errorf("find the ID of network namespace %s: %w", n.path, err)
		}
		if id == NoNetns {
			continue // no link of the host's reaches it: nothing to tie
		}
		for _, uid := range n.uids {
			out[uid] = append(out[uid], id)
		}
	}
	return out, nil
}

// physdev says why iptables cannot match bridge ports, or nil when it can:
// br_netfilter must be loaded and hand bridged IPv4 to iptables. The file
// is per network namespace, read for the agent's own.
func physdev(proc string) error {
	const name = "sys/net/bridge/bridge-nf-call-iptables"
	raw, err := os.ReadFile(filepath.Join(proc, name))
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("br_netfilter is not loaded")
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if strings.TrimSpace(string(raw)) != "1" {
		return errors.New("net.bridge.bridge-nf-call-iptables is 0")
	}
	return nil
}

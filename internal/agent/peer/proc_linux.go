//go:build linux

package peer

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
)

// Process is the local process behind a connection.
type Process struct {
	PID int
	// UID is the user ID owning the socket.
	UID int
	// PodUID is the UID of the pod the process runs in; "" for a node
	// process.
	PodUID string
}

// Of returns the process that holds the client side of a local TCP
// connection: client is the connection's remote address as the server sees
// it, server its local address.
func Of(client, server netip.AddrPort) (Process, error) {
	return of("/proc", client, server)
}

func of(proc string, client, server netip.AddrPort) (Process, error) {
	table := "net/tcp"
	if client.Addr().Is6() {
		table = "net/tcp6"
	}
	f, err := os.Open(filepath.Join(proc, table))
	if err != nil {
		return Process{}, fmt.Errorf("open socket table: %w", err)
	}
	inode, uid, err := socketInode(f, client, server)
	_ = f.Close()
	if err != nil {
		return Process{}, fmt.Errorf("find the socket of %s: %w", client, err)
	}
	pid, err := holder(proc, inode)
	if err != nil {
		return Process{}, fmt.Errorf("find the process of socket %d: %w", inode, err)
	}
	cg, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return Process{}, fmt.Errorf("read the cgroup of process %d: %w", pid, err)
	}
	return Process{PID: pid, UID: uid, PodUID: PodUIDFromCgroup(string(cg))}, nil
}

// holder finds the process with a descriptor on socket inode.
func holder(proc string, inode uint64) (int, error) {
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	entries, err := os.ReadDir(proc)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(proc, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && link == want {
				return pid, nil
			}
		}
	}
	return 0, ErrNotFound
}

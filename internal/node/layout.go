package node

import (
	"fmt"
	"net/netip"
	"path/filepath"
)

// MaxNodes is how many real nodes one machine can run: each takes one /24
// of PodRange.
const MaxNodes = 32

// PodRange holds every real node's pod CIDR, 10.254.<index>.0/24. The range
// is private and narrow so it is unlikely to clash with the machine's own
// networks; preflight checks that it does not.
var PodRange = netip.MustParsePrefix("10.254.0.0/16")

// Layout is where real node index lives: its bridge, addresses and folders.
type Layout struct {
	// Index is the node's place among the real nodes (0-based).
	Index int
	// Bridge is the Linux bridge the node's pods are attached to; it
	// carries NodeIP.
	Bridge string
	// PodCIDR is the node's pod range; NodeIP is its first address, the
	// pods' gateway, where the kubelet, the node agent and the node's DNS
	// answer.
	PodCIDR netip.Prefix
	NodeIP  netip.Addr
	// Dir holds everything of the node: configs, containerd's root and
	// state, the kubelet's root, pod logs, IPAM state.
	Dir string
}

// Dir is the folder of real node index under parent: run/node0, ... The
// one naming both podid up and the crash cleanup use.
func Dir(parent string, index int) string {
	return filepath.Join(parent, fmt.Sprintf("node%d", index))
}

// NewLayout places real node index under dir (the node's own folder).
func NewLayout(index int, dir string) (Layout, error) {
	if index < 0 || index >= MaxNodes {
		return Layout{}, fmt.Errorf("real node index %d out of range: room for %d real nodes", index, MaxNodes)
	}
	base := PodRange.Addr().As4()
	cidr := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1], byte(index), 0}), 24)
	return Layout{
		Index:   index,
		Bridge:  fmt.Sprintf("podid-br%d", index),
		PodCIDR: cidr,
		NodeIP:  cidr.Addr().Next(),
		Dir:     dir,
	}, nil
}

// Paths inside the node folder.
func (l Layout) containerdRoot() string   { return filepath.Join(l.Dir, "containerd", "root") }
func (l Layout) containerdState() string  { return filepath.Join(l.Dir, "containerd", "state") }
func (l Layout) containerdConfig() string { return filepath.Join(l.Dir, "containerd", "config.toml") }
func (l Layout) registryHosts() string    { return filepath.Join(l.Dir, "containerd", "hosts.d") }

// Socket is containerd's CRI socket. It sits directly in the node folder
// because a unix socket's path may not exceed 107 bytes.
func (l Layout) Socket() string     { return filepath.Join(l.Dir, "containerd.sock") }
func (l Layout) cniConfDir() string { return filepath.Join(l.Dir, "cni", "net.d") }
func (l Layout) ipamDir() string    { return filepath.Join(l.Dir, "cni", "ipam") }

// KubeletRoot is the kubelet's --root-dir: pods' volumes live under it.
// maxSocketPath is the longest unix socket path that binds (sun_path is
// 108 bytes with its terminating NUL).
const maxSocketPath = 107

// checkSocketPaths refuses a node folder too deep for the unix sockets
// containerd and the kubelet create in it, which otherwise fail with a bare
// "bind: invalid argument": containerd's socket and the ".ttrpc" one it
// adds beside it, and the kubelet's pod-resources socket, a name of up to
// 10 digits under its root.
func (l Layout) checkSocketPaths() error {
	for _, p := range []string{l.Socket() + ".ttrpc", filepath.Join(l.KubeletRoot(), "pod-resources", "0123456789")} {
		if n := len(p); n > maxSocketPath {
			return fmt.Errorf("the node's unix socket %s would be %d bytes, over the %d a unix socket allows; use a shorter --state-dir", p, n, maxSocketPath)
		}
	}
	return nil
}

func (l Layout) KubeletRoot() string { return filepath.Join(l.Dir, "kubelet") }

func (l Layout) kubeletConfig() string     { return filepath.Join(l.Dir, "kubelet-config.yaml") }
func (l Layout) kubeletKubeconfig() string { return filepath.Join(l.Dir, "kubelet.kubeconfig") }
func (l Layout) podLogs() string           { return filepath.Join(l.Dir, "pods") }
func (l Layout) resolvConf() string        { return filepath.Join(l.Dir, "resolv.conf") }

// ContainerdLog and KubeletLog are the children's logs.
func (l Layout) ContainerdLog() string { return filepath.Join(l.Dir, "containerd.log") }
func (l Layout) KubeletLog() string    { return filepath.Join(l.Dir, "kubelet.log") }

// CgroupRoot is the cgroup every pod of the node lives under, one per node
// so that kubelets on one machine never manage each other's pods.
func (l Layout) CgroupRoot() string { return fmt.Sprintf("/podid-node%d", l.Index) }

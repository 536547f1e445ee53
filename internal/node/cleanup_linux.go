package node

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podid/podid/internal/proc"
)

// ipForwardFile keeps net.ipv4.ip_forward as it was before the node
// started: the bridge plugin turns it on for its gateway, and teardown
// puts it back.
const ipForwardSysctl = "/proc/sys/net/ipv4/ip_forward"

func (l Layout) ipForwardRecord() string { return filepath.Join(l.Dir, "ip_forward.before") }

// Cleanup removes everything a node of layout l may have left: its pods
// (through a containerd started for the purpose when none serves the
// socket, so the CNI plugins release their addresses and namespaces), then
// any process whose command line names the node folder (kubelet,
// containerd, shims) with its descendants (the containers), mounts under
// the folder, the bridge and its veths, the cgroup root and the kubelet's
// links in /var/log/containers. It is idempotent and returns an error
// naming whatever it could not remove.
func Cleanup(ctx context.Context, l Layout, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Found before the pods are removed: a pod's namespace is known to be
	// the node's by its address, which removing the pod takes away.
	namespaces := podNetns(l)
	if hasSandboxState(l) {
		if err := removeSandboxesWithContainerd(ctx, l); err != nil {
			log.Warn("could not remove pods through containerd; sweeping what they left", "error", err)
		}
	}
	var errs []error
	sockets := shimSockets(l)
	if err := killTrees(l.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := unmountUnder(l.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := deleteNetns(namespaces); err != nil {
		errs = append(errs, err)
	}
	if err := deleteBridge(l.Bridge); err != nil {
		errs = append(errs, err)
	}
	if err := removeCgroupRoot(l.CgroupRoot()); err != nil {
		errs = append(errs, err)
	}
	if err := removeLogLinks("/var/log/containers", l.Dir); err != nil {
		errs = append(errs, err)
	}
	for _, s := range sockets {
		_ = os.Remove(s)
	}
	restoreIPForward(l)
	removeEmptyRuntimeDirs()
	return errors.Join(errs...)
}

// sharedRuntimeDirs are folders containerd 1.6 and the kubelet create at
// fixed paths whatever their configuration says (shim sockets, I/O fifos,
// container log links), deepest first. Cleanup removes them once empty,
// so a machine that had none keeps none, and one that runs another
// containerd or kubelet keeps theirs.
var sharedRuntimeDirs = []string{
	"/run/containerd/s", "/run/containerd/fifo", "/run/containerd/runc/k8s.io", "/run/containerd/runc",
	"/run/containerd/io.containerd.runtime.v2.task/k8s.io", "/run/containerd/io.containerd.runtime.v2.task",
	"/run/containerd", "/var/log/containers",
}

func removeEmptyRuntimeDirs() {
	for _, d := range sharedRuntimeDirs {
		_ = unix.Rmdir(d) // fails, as it should, when not empty
	}
}

// CleanupAll runs Cleanup for every real node folder under parent (see
// Dir) and reports whether there was any: what a run that did not stop
// cleanly left, found from its run folder alone.
func CleanupAll(ctx context.Context, parent string, log *slog.Logger) (found bool, err error) {
	var errs []error
	for i := 0; i < MaxNodes; i++ {
		l, err := NewLayout(i, Dir(parent, i))
		if err != nil {
			return found, err
		}
		if !exists(l.Dir) {
			continue
		}
		found = true
		if err := Cleanup(ctx, l, log); err != nil {
			errs = append(errs, err)
		}
	}
	return found, errors.Join(errs...)
}

// netnsDir is where containerd 1.6 keeps the pods' network namespaces
// (cni-<uuid>), whatever its configuration says.
const netnsDir = "/run/netns"

// podNetns lists the named network namespaces holding an address of l's
// pod CIDR: the node's pods'. containerd removes them when it stops a pod,
// but one restarted after a crash may fail to (it leaves the file of a
// namespace whose pause process is gone).
func podNetns(l Layout) []string {
	entries, _ := os.ReadDir(netnsDir)
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "cni-") {
			continue
		}
		b, err := exec.Command("ip", "-n", e.Name(), "-4", "-o", "addr", "show").Output()
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if p, err := netip.ParsePrefix(f); err == nil && l.PodCIDR.Contains(p.Addr()) {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out
}

// deleteNetns removes the named namespaces that still exist.
func deleteNetns(names []string) error {
	var errs []error
	for _, n := range names {
		if !exists(filepath.Join(netnsDir, n)) {
			continue
		}
		if out, err := exec.Command("ip", "netns", "delete", n).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("delete network namespace %s: %w: %s", n, err, strings.TrimSpace(string(out))))
		}
	}
	return errors.Join(errs...)
}

// shimSockets are the sockets containerd 1.6's shims of l's tasks listen
// on: a fixed folder, /run/containerd/s, with a name derived from
// containerd's address, the namespace and the task ID. A shim killed
// rather than shut down leaves its socket there.
func shimSockets(l Layout) []string {
	const ns = "k8s.io"
	tasks, _ := os.ReadDir(filepath.Join(l.containerdState(), "io.containerd.runtime.v2.task", ns))
	var out []string
	for _, t := range tasks {
		sum := sha256.Sum256([]byte(filepath.Join(l.Socket(), ns, t.Name())))
		out = append(out, filepath.Join("/run/containerd/s", hex.EncodeToString(sum[:])))
	}
	return out
}

// hasSandboxState reports whether containerd of l may still hold pods.
func hasSandboxState(l Layout) bool {
	if !exists(l.containerdConfig()) {
		return false
	}
	entries, err := os.ReadDir(filepath.Join(l.containerdRoot(), "io.containerd.grpc.v1.cri", "sandboxes"))
	return err == nil && len(entries) > 0
}

// removeSandboxesWithContainerd removes the pods through the containerd
// serving l's socket, starting one for the purpose if none does.
func removeSandboxesWithContainerd(ctx context.Context, l Layout) error {
	if err := removeSandboxes(ctx, l.Socket()); err == nil {
		return nil
	}
	p, err := startContainerd(ctx, l, "containerd (cleanup of "+l.Dir+")", nil)
	if err != nil {
		return err
	}
	defer p.Stop(stopGrace)
	return removeSandboxes(ctx, l.Socket())
}

// killTrees kills every process whose command line mentions dir, and all
// their descendants, and waits until they are gone.
func killTrees(dir string) error {
	procs, err := proc.List()
	if err != nil {
		return err
	}
	children := map[int][]int{}
	for _, p := range procs {
		children[p.PPID] = append(children[p.PPID], p.PID)
	}
	self := os.Getpid()
	var victims []int
	var add func(pid int)
	seen := map[int]bool{}
	add = func(pid int) {
		if seen[pid] || pid == self {
			return
		}
		seen[pid] = true
		victims = append(victims, pid)
		for _, c := range children[pid] {
			add(c)
		}
	}
	for _, p := range procs {
		if strings.Contains(p.Cmdline, dir+"/") || strings.HasSuffix(p.Cmdline, dir) {
			add(p.PID)
		}
	}
	for _, pid := range victims {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range victims {
		for proc.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if proc.Alive(pid) {
			return fmt.Errorf("process %d of node folder %s survived SIGKILL: %w", pid, dir, errLeftBehind)
		}
	}
	return nil
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) error {
	all, err := mounts()
	if err != nil {
		return err
	}
	var ours []string
	for _, m := range all {
		if m.Point == dir || strings.HasPrefix(m.Point, dir+"/") {
			ours = append(ours, m.Point)
		}
	}
	sort.Slice(ours, func(i, j int) bool { return len(ours[i]) > len(ours[j]) })
	var errs []error
	for _, m := range ours {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// mount is one line of /proc/self/mountinfo.
type mount struct {
	// Point is where it is mounted; FSType its file-system type.
	Point, FSType string
}

// mounts lists this mount namespace's mounts.
func mounts() ([]mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// Optional fields end with " - ", after which come the type and
		// the source.
		line := sc.Text()
		before, after, _ := strings.Cut(line, " - ")
		fields, tail := strings.Fields(before), strings.Fields(after)
		if len(fields) > 4 && len(tail) > 0 {
			out = append(out, mount{Point: unescapeMount(fields[4]), FSType: tail[0]})
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// createBridge adds the node's bridge with its gateway address, so the
// kubelet finds its node IP on a local interface before the first pod;
// the bridge plugin then attaches pods to it.
func createBridge(l Layout) error {
	if err := deleteBridge(l.Bridge); err != nil {
		return err
	}
	if err := recordIPForward(l); err != nil {
		return err
	}
	addr := netipPrefixString(l)
	for _, args := range [][]string{
		{"link", "add", l.Bridge, "type", "bridge"},
		{"addr", "add", addr, "dev", l.Bridge},
		{"link", "set", l.Bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

func netipPrefixString(l Layout) string {
	return l.NodeIP.String() + "/" + strconv.Itoa(l.PodCIDR.Bits())
}

// deleteBridge removes the veths attached to bridge, then the bridge.
func deleteBridge(bridge string) error {
	if _, err := os.Stat("/sys/class/net/" + bridge); err != nil {
		return nil
	}
	ports, _ := os.ReadDir("/sys/class/net/" + bridge + "/brif")
	var errs []error
	for _, p := range ports {
		if out, err := exec.Command("ip", "link", "del", p.Name()).CombinedOutput(); err != nil && exists("/sys/class/net/"+p.Name()) {
			errs = append(errs, fmt.Errorf("delete veth %s: %w: %s", p.Name(), err, strings.TrimSpace(string(out))))
		}
	}
	if out, err := exec.Command("ip", "link", "del", bridge).CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("delete bridge %s: %w: %s", bridge, err, strings.TrimSpace(string(out))))
	}
	return errors.Join(errs...)
}

// cgroupMounts lists the folders of every mounted cgroup hierarchy.
func cgroupMounts() ([]string, error) {
	all, err := mounts()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range all {
		if m.FSType == "cgroup" || m.FSType == "cgroup2" {
			out = append(out, m.Point)
		}
	}
	return out, nil
}

// createCgroupRoot makes the node's cgroup root in every hierarchy: the
// kubelet requires it to exist and creates its pods' cgroups below it.
func createCgroupRoot(root string) error {
	hierarchies, err := cgroupMounts()
	if err != nil {
		return err
	}
	for _, m := range hierarchies {
		if err := os.MkdirAll(filepath.Join(m, root), 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", filepath.Join(m, root), err)
		}
	}
	return nil
}

// removeCgroupRoot removes the node's cgroups, deepest first (a cgroup
// folder can only be removed once empty of tasks and children).
func removeCgroupRoot(root string) error {
	hierarchies, err := cgroupMounts()
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range hierarchies {
		top := filepath.Join(m, root)
		if !exists(top) {
			continue
		}
		var dirs []string
		_ = filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			if err := rmdirRetry(d); err != nil {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// rmdirRetry removes a cgroup folder, waiting briefly for the kernel to
// release tasks that just exited.
func rmdirRetry(dir string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// removeLogLinks removes the links the kubelet keeps in dir (a fixed
// /var/log/containers) that point into the node folder.
func removeLogLinks(dir, nodeDir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		target, err := os.Readlink(path)
		if err != nil || !strings.HasPrefix(target, nodeDir+"/") {
			continue
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			errs = append(errs, fmt.Errorf("remove log link %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

func recordIPForward(l Layout) error {
	if exists(l.ipForwardRecord()) {
		return nil
	}
	b, err := os.ReadFile(ipForwardSysctl)
	if err != nil {
		return fmt.Errorf("read %s: %w", ipForwardSysctl, err)
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", l.Dir, err)
	}
	return os.WriteFile(l.ipForwardRecord(), b, 0o600)
}

func restoreIPForward(l Layout) {
	b, err := os.ReadFile(l.ipForwardRecord())
	if err != nil {
		return
	}
	if err := os.WriteFile(ipForwardSysctl, b, 0o644); err == nil {
		_ = os.Remove(l.ipForwardRecord())
	}
}

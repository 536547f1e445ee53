package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Machine is what a real node may touch outside its folder, as seen at one
// moment: a teardown must leave it as it was.
type Machine struct {
	Links, Netns, Chains, Mounts, Cgroups, RuntimeDirs []string
	IPForward                                          string
}

// Snapshot reads the machine: links, network namespaces, iptables rules
// (without counters), mounts, podid cgroups, runtime folders, ip_forward.
func Snapshot(t testing.TB) Machine {
	t.Helper()
	var m Machine
	m.Links = names(t, "/sys/class/net")
	m.Netns = names(t, "/run/netns")
	m.RuntimeDirs = append(names(t, "/run/containerd"), names(t, "/run/containerd/s")...)
	m.RuntimeDirs = append(m.RuntimeDirs, names(t, "/var/log/containers")...)
	for _, table := range []string{"filter", "nat", "mangle", "raw"} {
		out, err := exec.Command("iptables-save", "-t", table).Output()
		if err != nil {
			t.Fatalf("iptables-save -t %s: %v", table, err)
		}
		counters := regexp.MustCompile(`\[\d+:\d+\]`)
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, ":") || strings.HasPrefix(line, "-A") {
				m.Chains = append(m.Chains, table+" "+counters.ReplaceAllString(line, ""))
			}
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 {
			m.Mounts = append(m.Mounts, fields[4])
		}
	}
	sort.Strings(m.Mounts)
	cg, _ := filepath.Glob("/sys/fs/cgroup/*/podid-node*")
	m.Cgroups = cg
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	m.IPForward = strings.TrimSpace(string(b))
	return m
}

func names(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("read %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}

// Diff lists what differs between two snapshots, one line each.
func Diff(before, after Machine) []string {
	var out []string
	cmp := func(what string, a, b []string) {
		in := map[string]int{}
		for _, x := range a {
			in[x]--
		}
		for _, x := range b {
			in[x]++
		}
		for x, n := range in {
			switch {
			case n > 0:
				out = append(out, what+" left behind: "+x)
			case n < 0:
				out = append(out, what+" removed: "+x)
			}
		}
	}
	cmp("link", before.Links, after.Links)
	cmp("netns", before.Netns, after.Netns)
	cmp("iptables", before.Chains, after.Chains)
	cmp("mount", before.Mounts, after.Mounts)
	cmp("cgroup", before.Cgroups, after.Cgroups)
	cmp("runtime dir", before.RuntimeDirs, after.RuntimeDirs)
	if before.IPForward != after.IPForward {
		out = append(out, "net.ipv4.ip_forward changed from "+before.IPForward+" to "+after.IPForward)
	}
	sort.Strings(out)
	return out
}

// ProcessesUnder lists the processes whose command line names dir.
func ProcessesUnder(t testing.TB, dir string) []string {
	t.Helper()
	return Processes(func(args []string) bool { return strings.Contains(strings.Join(args, " "), dir) })
}

// Processes lists the processes whose arguments match, as "PID command line".
func Processes(match func(args []string) bool) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if args := strings.Split(string(b), "\x00"); match(args) {
			out = append(out, e.Name()+" "+strings.Join(args, " "))
		}
	}
	return out
}

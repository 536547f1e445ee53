package node

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Need is one thing a real node needs that the machine lacks.
type Need struct {
	// What is missing, in words ("containerd", "root").
	What string
	// Package is the Debian package that provides it; empty when no
	// package does (root).
	Package string
}

// Probe answers what preflight asks of the machine.
type Probe struct {
	// EUID is the effective user ID.
	EUID int
	// LookPath finds a command in PATH (exec.LookPath).
	LookPath func(string) (string, error)
	// Exists reports whether a file exists.
	Exists func(string) bool
}

// Preflight lists what the machine lacks to run real nodes, in a stable
// order. It is pure: the probe does the looking.
func Preflight(p Probe, cniBinDir string) []Need {
	if cniBinDir == "" {
		cniBinDir = DefaultCNIBinDir
	}
	var out []Need
	if p.EUID != 0 {
		out = append(out, Need{What: "root (containerd, the kubelet and the bridge need it)"})
	}
	for _, c := range []struct{ cmd, pkg string }{
		{"containerd", "containerd"},
		{"containerd-shim-runc-v2", "containerd"},
		{"runc", "runc"},
		{"iptables", "iptables"},
		{"ip", "iproute2"},
	} {
		if _, err := p.LookPath(c.cmd); err != nil {
			out = append(out, Need{What: c.cmd, Package: c.pkg})
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "loopback"} {
		if path := filepath.Join(cniBinDir, plugin); !p.Exists(path) {
			out = append(out, Need{What: "the CNI plugin " + path, Package: "containernetworking-plugins"})
		}
	}
	return out
}

// PreflightError says what is missing and the one command that installs it.
func PreflightError(needs []Need) error {
	if len(needs) == 0 {
		return nil
	}
	var what, pkgs []string
	seen := map[string]bool{}
	for _, n := range needs {
		what = append(what, n.What)
		if n.Package != "" && !seen[n.Package] {
			seen[n.Package] = true
			pkgs = append(pkgs, n.Package)
		}
	}
	msg := "real nodes need " + strings.Join(what, ", ")
	if len(pkgs) > 0 {
		msg += fmt.Sprintf("; install them with: apt-get update && apt-get install -y %s", strings.Join(pkgs, " "))
	}
	return fmt.Errorf("%s", msg)
}

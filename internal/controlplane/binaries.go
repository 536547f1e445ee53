package controlplane

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed k8s-bin.sh
var buildScript []byte

// BinDirEnv names an environment variable that, when set, points at a folder
// of prebuilt binaries and skips the build.
const BinDirEnv = "PODID_K8S_BIN"

// EnsureBinaries returns a folder holding kube-apiserver, kube-scheduler,
// kube-controller-manager, etcd and kwok,
// building them from the Go module proxy on first use (minutes cold, a few
// milliseconds warm). Build progress is copied to progress if not nil.
func EnsureBinaries(ctx context.Context, progress io.Writer) (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return dir, nil
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("build the control-plane binaries: the go command is needed once to build them: %w (or set %s to a folder holding them)", err, BinDirEnv)
	}
	script, err := os.CreateTemp("", "podid-k8s-bin-*.sh")
	if err != nil {
		return "", fmt.Errorf("write build script: %w", err)
	}
	defer os.Remove(script.Name())
	if _, err := script.Write(buildScript); err != nil {
		script.Close()
		return "", fmt.Errorf("write build script: %w", err)
	}
	script.Close()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script.Name())
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if progress != nil {
		cmd.Stderr = io.MultiWriter(&stderr, progress)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the control-plane binaries: %w\n%s", err, tail(stderr.String(), 20))
	}
	dir := strings.TrimSpace(stdout.String())
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("build script printed %q, which holds no kube-apiserver: %w", dir, err)
	}
	return dir, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

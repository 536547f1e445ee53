package controlplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/podid/podid/internal/proc"
)

// startControllers runs kube-scheduler and kube-controller-manager, so
// what users apply runs as in a real cluster: Deployments get ReplicaSets
// and pods, pods get scheduled onto nodes, namespaces get their default
// ServiceAccount and are finalized when deleted. Both use the admin
// kubeconfig and serve their health checks on loopback ports of their own.
func (cp *ControlPlane) startControllers(ctx context.Context, opts Options, keys *pki) error {
	specs := []struct {
		name string
		args []string
	}{
		{"kube-scheduler", nil},
		{"kube-controller-manager", []string{
			"--service-account-private-key-file=" + keys.saKey,
			"--root-ca-file=" + keys.ca.certFile,
		}},
	}
	// Self-signed serving certificates: only the readiness check below
	// talks to them, on loopback.
	health := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback health check of a child we started
	for _, s := range specs {
		port, err := FreePort()
		if err != nil {
			return err
		}
		args := append([]string{
			"--kubeconfig=" + cp.Kubeconfig,
			"--authentication-kubeconfig=" + cp.Kubeconfig,
			"--authorization-kubeconfig=" + cp.Kubeconfig,
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--cert-dir=" + filepath.Join(opts.Dir, s.name),
			"--profiling=false",
		}, s.args...)
		p, err := proc.Start(proc.Spec{
			Name:    s.name,
			Path:    filepath.Join(opts.BinDir, s.name),
			Args:    args,
			LogFile: filepath.Join(opts.Dir, s.name+".log"),
		})
		if err != nil {
			return err
		}
		cp.controllers = append(cp.controllers, p)
		url := "https://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
		if err := p.WaitUntil(ctx, 100*time.Millisecond, func(ctx context.Context) error { return httpOK(ctx, health, url) }); err != nil {
			return fmt.Errorf("start %s: %w", s.name, err)
		}
	}
	return nil
}

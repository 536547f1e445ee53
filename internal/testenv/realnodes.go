package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/node"
)

// RealNodeName names real node i of an Env.
func RealNodeName(i int) string { return fmt.Sprintf("real-%d", i) }

// RequireRealNodes skips a test that needs what real nodes need (root,
// containerd, runc, the CNI plugins, iproute2, iptables), except under CI,
// where .ci/run installs them and a missing one fails the test.
func RequireRealNodes(t testing.TB) {
	t.Helper()
	err := node.PreflightError(node.Preflight(node.Probe{EUID: os.Geteuid(), LookPath: exec.LookPath, Exists: func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}}, ""))
	if err != nil {
		Missing(t, "real-node test: %v", err)
	}
}

// startRealNodes serves the images opts asks for (and pause) from a
// loopback registry and starts opts.RealNodes real nodes, then waits for
// them to be Ready.
func (e *Env) startRealNodes(ctx context.Context, bin string, opts Options) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := image.FindModuleRoot(wd)
	if err != nil {
		return err
	}
	e.Images, err = image.ServeCatalog(ctx, image.ServeOptions{ModuleRoot: root, Names: append([]string{image.NamePause}, opts.Images...), TrustedCA: opts.TrustedCA})
	if err != nil {
		return err
	}
	for i := 0; i < opts.RealNodes; i++ {
		l, err := node.NewLayout(i, node.Dir(e.Dir, i))
		if err != nil {
			return err
		}
		healthz, err := controlplane.FreePort()
		if err != nil {
			return err
		}
		cfg := node.Config{
			Layout: l, Name: RealNodeName(i), SandboxImage: image.SandboxImage(),
			Registries:  node.Mirrors("http://"+e.Images.Addr, e.Images.Hosts()),
			KubeletPort: 10250, HealthzPort: healthz, ClientCAFile: e.ControlPlane.CAFile,
			Labels: map[string]string{"podid.dev/node-kind": "real"},
		}
		if opts.ProviderID != nil {
			cfg.ProviderID = opts.ProviderID(opts.Nodes + i)
		}
		if opts.RealNodeACR != nil {
			cfg.ACR = opts.RealNodeACR(i)
		}
		n, err := node.Start(ctx, node.Options{Config: cfg, KubeletBin: filepath.Join(bin, "kubelet"), WriteKubeconfig: e.ControlPlane.NodeKubeconfig})
		if err != nil {
			return err
		}
		e.RealNodes = append(e.RealNodes, n)
	}
	for _, n := range e.RealNodes {
		if err := e.waitReady(ctx, n.Name(), 90*time.Second); err != nil {
			return fmt.Errorf("wait for real node %s to be Ready (kubelet log: %s): %w", n.Name(), n.Config().KubeletLog(), err)
		}
	}
	return nil
}

func (e *Env) stopRealNodes() {
	for i := len(e.RealNodes) - 1; i >= 0; i-- {
		e.RealNodes[i].Stop()
	}
	e.RealNodes = nil
	if e.Images != nil {
		e.Images.Stop()
		e.Images = nil
	}
}

// waitReady waits until node name reports Ready.
func (e *Env) waitReady(ctx context.Context, name string, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		got, err := e.Kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range got.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

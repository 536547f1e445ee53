package testenv

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podid/podid/config/crd"
	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/kwok"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/proc"
)

// Options configure an Env.
type Options struct {
	// Nodes is how many fake nodes to create; 0 means none.
	Nodes int
	// NodeName names node i; nil means "node-<i>".
	NodeName func(i int) string
	// ProviderID gives node i's providerID; nil leaves it empty.
	ProviderID func(i int) string
	// NodeAddresses gives node i's podCIDR and InternalIP; nil uses the
	// loopback plan of kwok.Layout.
	NodeAddresses func(i int) (podCIDR netip.Prefix, internalIP netip.Addr)
	// Dir holds logs and state; empty means a new temporary folder that Stop
	// removes.
	Dir string
	// ExtraAPIServerArgs are appended to kube-apiserver's flags, e.g.
	// --profiling=true for a benchmark that profiles it.
	ExtraAPIServerArgs []string
	// Controllers also runs kube-scheduler and kube-controller-manager, so
	// Deployments get pods and pods without a node get scheduled.
	Controllers bool
	// RealNodes is how many real nodes (containerd and a kubelet, see
	// internal/node) to run beside the fake ones, named RealNodeName(i).
	// Tests that set it call RequireRealNodes first.
	RealNodes int
	// Images are catalog images (internal/image) the real nodes can pull,
	// besides pause, under their podid.local and docker.io names.
	Images []string
	// TrustedCA is added to the trust store of those images.
	TrustedCA []byte
	// RealNodeACR, when set, gives real node i its ACR settings: the
	// kubelet pulls from the embedded cloud's registries with the ACR
	// credential provider (see node.ACR). nil for a node means none.
	RealNodeACR func(i int) *node.ACR
}

// Env is a running cluster.
type Env struct {
	Dir          string
	ControlPlane *controlplane.ControlPlane
	Config       *rest.Config
	Scheme       *runtime.Scheme
	Kube         kubernetes.Interface
	Client       client.Client
	Dynamic      dynamic.Interface
	Nodes        []*corev1.Node
	// RealNodes run containerd and a kubelet; Images serves what they pull.
	RealNodes []*node.Node
	Images    *image.Served

	kwok      *proc.Process
	removeDir bool
}

// Start brings up the cluster. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Env, retErr error) {
	env := &Env{Dir: opts.Dir, Scheme: kubeclient.Scheme()}
	if env.Dir == "" {
		dir, err := os.MkdirTemp("", "podid-testenv-")
		if err != nil {
			return nil, fmt.Errorf("create work folder: %w", err)
		}
		env.Dir, env.removeDir = dir, true
	}
	defer func() {
		if retErr != nil {
			env.Stop()
		}
	}()
	bin, err := controlplane.EnsureBinaries(ctx, os.Stderr)
	if err != nil {
		return nil, err
	}
	env.ControlPlane, err = controlplane.Start(ctx, controlplane.Options{BinDir: bin, Dir: env.Dir, ExtraAPIServerArgs: opts.ExtraAPIServerArgs, Controllers: opts.Controllers})
	if err != nil {
		return nil, err
	}
	env.Config = env.ControlPlane.Config
	if err := env.clients(); err != nil {
		return nil, err
	}
	if err := crd.Install(ctx, env.Config); err != nil {
		return nil, err
	}
	env.kwok, err = kwok.Start(kwok.Options{BinDir: bin, Kubeconfig: env.ControlPlane.Kubeconfig, Dir: env.Dir})
	if err != nil {
		return nil, err
	}
	if err := env.createNodes(ctx, opts); err != nil {
		return nil, err
	}
	if opts.RealNodes > 0 {
		if err := env.startRealNodes(ctx, bin, opts); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// StartT is Start for a test: it fails the test on error and stops the
// cluster when the test ends.
func StartT(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	env, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start test cluster: %v", err)
	}
	t.Cleanup(env.Stop)
	return env
}

// Stop ends kwok, the apiserver and etcd, and removes a temporary Dir.
func (e *Env) Stop() {
	e.stopRealNodes()
	if e.kwok != nil {
		e.kwok.Stop(controlplane.DefaultStopGrace)
	}
	if e.ControlPlane != nil {
		e.ControlPlane.Stop()
	}
	if e.removeDir {
		_ = os.RemoveAll(e.Dir)
	}
}

// PIDs lists every child process of the Env by name.
func (e *Env) PIDs() map[string]int {
	out := map[string]int{}
	if e.ControlPlane != nil {
		for k, v := range e.ControlPlane.PIDs() {
			out[k] = v
		}
	}
	if e.kwok != nil {
		out["kwok"] = e.kwok.PID()
	}
	return out
}

func (e *Env) clients() error {
	var err error
	if e.Kube, err = kubernetes.NewForConfig(e.Config); err != nil {
		return fmt.Errorf("create clientset: %w", err)
	}
	if e.Dynamic, err = dynamic.NewForConfig(e.Config); err != nil {
		return fmt.Errorf("create dynamic client: %w", err)
	}
	if e.Client, err = client.New(e.Config, client.Options{Scheme: e.Scheme}); err != nil {
		return fmt.Errorf("create controller-runtime client: %w", err)
	}
	return nil
}

func (e *Env) createNodes(ctx context.Context, opts Options) error {
	for i := 0; i < opts.Nodes; i++ {
		cidr, ip, err := kwok.Layout(i)
		if err != nil {
			return err
		}
		if opts.NodeAddresses != nil {
			cidr, ip = opts.NodeAddresses(i)
		}
		spec := kwok.NodeSpec{Name: fmt.Sprintf("node-%d", i), PodCIDR: cidr, InternalIP: ip}
		if opts.NodeName != nil {
			spec.Name = opts.NodeName(i)
		}
		if opts.ProviderID != nil {
			spec.ProviderID = opts.ProviderID(i)
		}
		node, err := kwok.CreateNode(ctx, e.Kube, spec)
		if err != nil {
			return err
		}
		e.Nodes = append(e.Nodes, node)
	}
	return e.waitNodesReady(ctx)
}

func (e *Env) waitNodesReady(ctx context.Context) error {
	for _, n := range e.Nodes {
		if err := e.waitReady(ctx, n.Name, 60*time.Second); err != nil {
			return fmt.Errorf("wait for kwok to make node %s Ready (log: %s): %w", n.Name, e.kwok.LogFile(), err)
		}
	}
	return nil
}

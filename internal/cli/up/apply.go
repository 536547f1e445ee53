package up

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/config/crd"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/kwok"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/proc"
)

// stopGrace is how long a child gets between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// runner applies a plan and owns what it started.
type runner struct {
	p        *plan.Plan
	log      *slog.Logger
	progress io.Writer

	cp       *controlplane.ControlPlane
	cloud    *cloud.Cloud
	cloudLog *os.File
	children []*proc.Process // every supervised child, in start order
	kwok     *proc.Process
	mic      *proc.Process
	webhook  *proc.Process
	// azrbacStop stops the in-process Azure RBAC webhook; azrbacLog is its log.
	azrbacStop func()
	azrbacLog  *os.File
	agents     []*proc.Process
	// started are the components started so far, in order.
	started []component
	bin     string
	// realNodes run containerd and a kubelet; images and names serve them.
	realNodes []*node.Node
	images    *image.Served
	names     func()
	kube      kubernetes.Interface
	client    client.Client
	rt        plan.Runtime
	// nodeRegistries are --node-registry's HOST=URL mappings, added to
	// every real node's containerd.
	nodeRegistries []string
	// kubeletSP is --kubelet-service-principal: the world application the
	// real nodes' kubelets pull as; empty for the kubelet identity.
	kubeletSP string
}

// apply starts every component of the plan, in order. On error the
// caller calls stop, which stops whatever did start.
func (r *runner) apply(ctx context.Context) error {
	for _, c := range r.components() {
		r.started = append(r.started, c)
		if c.start == nil {
			continue
		}
		if err := c.start(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) prepare(context.Context) error {
	if err := checkPorts(r.p); err != nil {
		return err
	}
	if err := cleanRealNodes(r.p, r.log); err != nil {
		return err
	}
	if err := resetRunDir(r.p.RunDir); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the podid executable: %w", err)
	}
	r.rt.Executable = exe
	return nil
}

func (r *runner) binaries(ctx context.Context) error {
	r.log.Info("building or reusing control-plane binaries")
	bin, err := controlplane.EnsureBinaries(ctx, r.progress)
	if err != nil {
		return err
	}
	if err := checkBinaries(bin, len(r.p.RealNodes) > 0); err != nil {
		return err
	}
	r.bin = bin
	return nil
}

func (r *runner) startControlPlane(ctx context.Context) error {
	p := r.p
	r.log.Info("starting control plane", "bin", r.bin)
	var err error
	r.cp, err = controlplane.Start(ctx, controlplane.Options{BinDir: r.bin, Dir: p.RunDir, APIServerPort: p.APIServerPort, Controllers: true,
		ExtraAPIServerArgs: p.SignIn.APIServerArgs()})
	if err != nil {
		return fmt.Errorf("start control plane: %w", err)
	}
	r.rt.Issuer = r.cp.Issuer
	if r.cp.Kubeconfig == p.Kubeconfig { // local accounts disabled: no operator copy
		return nil
	}
	return copyFile(r.cp.Kubeconfig, p.Kubeconfig)
}

func (r *runner) stopControlPlane() {
	if r.cp != nil {
		r.cp.Stop()
	}
}

func (r *runner) installCRDs(ctx context.Context) error {
	r.log.Info("installing CRDs")
	if err := crd.Install(ctx, r.cp.Config); err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	return nil
}

func (r *runner) startKwok(context.Context) error {
	kw, err := kwok.Start(kwok.Options{BinDir: r.bin, Kubeconfig: r.p.Kubeconfig, Dir: r.p.RunDir})
	if err != nil {
		return err
	}
	r.kwok = kw
	r.children = append(r.children, kw)
	return nil
}

func (r *runner) startCloud(ctx context.Context) error {
	p := r.p
	var err error
	r.cloudLog, err = os.OpenFile(p.CloudLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open cloud log: %w", err)
	}
	// It starts before the control plane, whose authentication trusts its
	// issuer; trustControlPlane adds the apiserver's CA once that runs.
	r.log.Info("starting embedded cloud", "world", p.WorldSource)
	r.cloud, err = cloud.Start(ctx, cloud.Options{
		Listen: fmt.Sprintf("127.0.0.1:%d", p.CloudPort), StateDir: filepath.Join(p.RunDir, "cloud"),
		Seed: p.World, Logger: p.Log.New(r.cloudLog),
	})
	if err != nil {
		return fmt.Errorf("start embedded cloud: %w", err)
	}
	r.rt.CloudURL, r.rt.CloudCA = r.cloud.URL(), r.cloud.CAPath()
	r.rt.IMDS = map[string]string{}
	for _, in := range r.cloud.Instances() {
		r.rt.IMDS[in.Name] = in.IMDSURL
	}
	for _, n := range p.Nodes {
		if r.rt.IMDS[n.Instance] == "" {
			return fmt.Errorf("the embedded cloud has no IMDS for instance %s of node %s", n.Instance, n.Name)
		}
	}
	if d := p.Doctor; d.SecretFile != "" {
		if err := os.WriteFile(d.SecretFile, []byte(d.Secret), 0o600); err != nil {
			return fmt.Errorf("write podid doctor's client secret: %w", err)
		}
	}
	return nil
}

func (r *runner) stopCloud() {
	if r.cloud != nil {
		_ = r.cloud.Close()
	}
	if r.cloudLog != nil {
		_ = r.cloudLog.Close()
	}
}

func (r *runner) clients(context.Context) error {
	var err error
	if r.kube, err = kubernetes.NewForConfig(r.cp.Config); err != nil {
		return fmt.Errorf("create clientset: %w", err)
	}
	if r.client, err = client.New(r.cp.Config, client.Options{Scheme: kubeclient.Scheme()}); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	return nil
}

func (r *runner) createNodes(ctx context.Context) error {
	for _, n := range r.p.Nodes {
		spec := kwok.NodeSpec{Name: n.Name, PodCIDR: n.PodCIDR, InternalIP: n.InternalIP, ProviderID: n.ProviderID}
		if t := r.p.FakeNodeTaint; t != nil {
			spec.Taints = []corev1.Taint{*t}
		}
		if _, err := kwok.CreateNode(ctx, r.kube, spec); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) createAgentAccount(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: plan.AgentNamespace}}
	if _, err := r.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", plan.AgentNamespace, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: plan.AgentServiceAccount, Namespace: plan.AgentNamespace}}
	if _, err := r.kube.CoreV1().ServiceAccounts(plan.AgentNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ServiceAccount %s/%s: %w", plan.AgentNamespace, plan.AgentServiceAccount, err)
	}
	return nil
}

func (r *runner) startMic(context.Context) error {
	p := r.p
	if p.Mic.SecretFile != "" {
		if err := os.WriteFile(p.Mic.SecretFile, []byte(p.Mic.Secret), 0o600); err != nil {
			return fmt.Errorf("write mic's client secret: %w", err)
		}
	}
	r.log.Info("starting mic")
	mic, err := proc.Start(proc.Spec{Name: "mic", Path: r.rt.Executable, Args: p.MicArgs(r.rt), LogFile: p.Mic.Log})
	if err != nil {
		return err
	}
	r.mic = mic
	r.children = append(r.children, mic)
	return nil
}

func (r *runner) startAgents(context.Context) error {
	for _, n := range r.p.AllNodes() {
		r.log.Info("starting node agent", "node", n.Name, "address", n.AgentAddr)
		a, err := proc.Start(proc.Spec{Name: "nmi " + n.Name, Path: r.rt.Executable, Args: r.p.AgentArgs(n, r.rt), LogFile: n.AgentLog})
		if err != nil {
			return err
		}
		r.agents = append(r.agents, a)
		r.children = append(r.children, a)
	}
	return nil
}

func (r *runner) applyDemo(ctx context.Context) error {
	// The demo's pods go to the real nodes once their agents removed the
	// agent-not-ready taint: created before, they would wait out the
	// scheduler's back-off for unschedulable pods.
	wctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := r.poll(wctx, r.realNodesUntainted); err != nil {
		return fmt.Errorf("wait for the real nodes' agents to remove the %s taint: %w", podidv1.AgentNotReadyTaint, err)
	}
	ns, id, b, pods := r.p.Demo.Objects()
	r.log.Info("applying demo", "namespace", ns.Name)
	if _, err := r.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	for _, o := range []client.Object{id, b} {
		if err := r.client.Create(ctx, o); err != nil {
			return fmt.Errorf("create %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
		}
	}
	for _, pod := range pods {
		if _, err := r.kube.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	return nil
}

// stop stops every started component in reverse order, children first
// within each; safe after a partial start and when called again.
func (r *runner) stop() {
	for i := len(r.started) - 1; i >= 0; i-- {
		if c := r.started[i]; c.stop != nil {
			c.stop()
		}
	}
	r.started = nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("read %s: %w", from, err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", to, err)
	}
	return nil
}

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

	"github.com/podid/podid/config/crd"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/kwok"
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
	children []*proc.Process // kwok, mic, agents, in start order
	kube     kubernetes.Interface
	client   client.Client
	rt       plan.Runtime
}

// apply starts everything the plan lists, in order. On error the caller
// calls stop, which stops whatever did start.
func (r *runner) apply(ctx context.Context) error {
	p := r.p
	if err := checkPorts(p); err != nil {
		return err
	}
	if err := resetRunDir(p.RunDir); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the podid executable: %w", err)
	}
	r.rt.Executable = exe

	r.log.Info("building or reusing control-plane binaries")
	bin, err := controlplane.EnsureBinaries(ctx, r.progress)
	if err != nil {
		return err
	}
	if err := checkBinaries(bin); err != nil {
		return err
	}
	r.log.Info("starting control plane", "bin", bin)
	r.cp, err = controlplane.Start(ctx, controlplane.Options{BinDir: bin, Dir: p.RunDir, APIServerPort: p.APIServerPort, Controllers: true})
	if err != nil {
		return fmt.Errorf("start control plane: %w", err)
	}
	r.rt.Issuer = r.cp.Issuer
	if err := copyFile(r.cp.Kubeconfig, p.Kubeconfig); err != nil {
		return err
	}
	if err := r.startCloud(ctx); err != nil {
		return err
	}
	if err := r.clients(); err != nil {
		return err
	}
	r.log.Info("installing CRDs")
	if err := crd.Install(ctx, r.cp.Config); err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	kw, err := kwok.Start(kwok.Options{BinDir: bin, Kubeconfig: p.Kubeconfig, Dir: p.RunDir})
	if err != nil {
		return err
	}
	r.children = append(r.children, kw)
	if err := r.createNodes(ctx); err != nil {
		return err
	}
	if err := r.createAgentAccount(ctx); err != nil {
		return err
	}
	if err := r.startMic(); err != nil {
		return err
	}
	if err := r.startAgents(); err != nil {
		return err
	}
	if p.Demo != nil {
		if err := r.applyDemo(ctx); err != nil {
			return err
		}
	}
	return r.waitReady(ctx)
}

func (r *runner) startCloud(ctx context.Context) error {
	p := r.p
	ca, err := os.ReadFile(r.cp.CAFile)
	if err != nil {
		return fmt.Errorf("read apiserver CA: %w", err)
	}
	r.cloudLog, err = os.OpenFile(p.CloudLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open cloud log: %w", err)
	}
	r.log.Info("starting embedded cloud", "world", p.WorldSource)
	r.cloud, err = cloud.Start(ctx, cloud.Options{
		Listen: fmt.Sprintf("127.0.0.1:%d", p.CloudPort), StateDir: filepath.Join(p.RunDir, "cloud"),
		Seed: p.World, TrustedCAs: [][]byte{ca}, Logger: p.Log.New(r.cloudLog),
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
	if f := p.Federation; f != nil {
		fc := cloud.FederatedCredential{Name: plan.FederationName, Issuer: r.cp.Issuer, Subject: f.Subject, Audiences: []string{f.Audience}}
		if err := r.cloud.AddFederatedCredential(f.IdentityID, fc); err != nil {
			return fmt.Errorf("add federated credential to %s: %w", f.IdentityID, err)
		}
	}
	return nil
}

func (r *runner) clients() error {
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

func (r *runner) startMic() error {
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
	r.children = append(r.children, mic)
	return nil
}

func (r *runner) startAgents() error {
	for _, n := range r.p.Nodes {
		r.log.Info("starting node agent", "node", n.Name, "address", n.AgentAddr)
		a, err := proc.Start(proc.Spec{Name: "nmi " + n.Name, Path: r.rt.Executable, Args: r.p.AgentArgs(n, r.rt), LogFile: n.AgentLog})
		if err != nil {
			return err
		}
		r.children = append(r.children, a)
	}
	return nil
}

func (r *runner) applyDemo(ctx context.Context) error {
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

// stop stops everything in reverse start order; safe after a partial start.
func (r *runner) stop() {
	for i := len(r.children) - 1; i >= 0; i-- {
		r.children[i].Stop(stopGrace)
	}
	if r.cloud != nil {
		_ = r.cloud.Close()
	}
	if r.cloudLog != nil {
		_ = r.cloudLog.Close()
	}
	if r.cp != nil {
		r.cp.Stop()
	}
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

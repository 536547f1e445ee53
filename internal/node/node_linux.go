package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/podid/podid/internal/proc"
)

// Defaults of Options.
const (
	DefaultStartTimeout = 2 * time.Minute
	// stopGrace is how long containerd and the kubelet get between SIGTERM
	// and SIGKILL.
	stopGrace = 10 * time.Second
)

// Options configure Start.
type Options struct {
	Config
	// KubeletBin is the kubelet binary (hack/k8s-bin.sh builds it).
	KubeletBin string
	// WriteKubeconfig writes the kubelet's credentials for node name to
	// path (controlplane.ControlPlane.NodeKubeconfig).
	WriteKubeconfig func(name, path string) error
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// Node is a running real node: its containerd and kubelet.
type Node struct {
	cfg        Config
	log        *slog.Logger
	containerd *proc.Process
	kubelet    *proc.Process
	// proxy sends containerd's connections to the ACR login servers to
	// the cloud's front door; nil without ACR settings.
	proxy *frontDoorProxy
}

// Start prepares the node folder, the bridge and the cgroup root, then
// runs containerd and the kubelet and returns once both answer. The
// kubelet registers the Node; waiting for it to be Ready is the caller's.
// Whatever a crashed earlier run left in the same layout is removed first.
// On error everything started is torn down.
func Start(ctx context.Context, opts Options) (_ *Node, retErr error) {
	if err := PreflightError(Preflight(Probe{EUID: os.Geteuid(), LookPath: exec.LookPath, Exists: exists}, opts.CNIBinDir)); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: opts.Config, log: opts.Logger.With("node", opts.Name)}
	if err := Cleanup(ctx, opts.Layout, n.log); err != nil {
		return nil, fmt.Errorf("clean what an earlier run of node %s left: %w", opts.Name, err)
	}
	defer func() {
		if retErr != nil {
			n.Stop()
		}
	}()
	if err := n.writeFiles(opts); err != nil {
		return nil, err
	}
	if err := createCgroupRoot(opts.CgroupRoot()); err != nil {
		return nil, err
	}
	if err := createBridge(opts.Layout); err != nil {
		return nil, err
	}
	var err error
	if a := opts.ACR; a != nil {
		if n.proxy, err = startFrontDoorProxy(a.FrontDoor, a.FrontDoorNames); err != nil {
			return nil, err
		}
	}
	if n.containerd, err = startContainerd(ctx, opts.Layout, "containerd "+opts.Name, containerdEnv(opts.Config, n.proxyAddr())); err != nil {
		return nil, err
	}
	if n.kubelet, err = n.startKubelet(ctx, opts); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Node) proxyAddr() string {
	if n.proxy == nil {
		return ""
	}
	return n.proxy.Addr()
}

// TrustRegistry lets the node's containerd pull from an ACR login server
// (<name>.azurecr.io) created after the node started, trusting the cloud's
// CA for it (ACRRegistryCerts). containerd reads its registry folder on
// every pull, so no restart is needed.
func (n *Node) TrustRegistry(loginServer string) error {
	if n.cfg.ACR == nil {
		return fmt.Errorf("trust registry %s on node %s: the node was started without ACR settings", loginServer, n.cfg.Name)
	}
	return linkFile(registryCALink(n.cfg.Layout, loginServer), n.cfg.ACR.CAFile)
}

// linkFile makes link a symbolic link to target, replacing what was there.
func linkFile(link, target string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(link), err)
	}
	if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", link, err)
	}
	if err := os.Symlink(target, link); err != nil {
		return fmt.Errorf("link %s to %s: %w", link, target, err)
	}
	return nil
}

// Name is the Node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Config is what the node was started with.
func (n *Node) Config() Config { return n.cfg }

// Processes are the node's supervised children, for status and for
// noticing one exit.
func (n *Node) Processes() []*proc.Process {
	var out []*proc.Process
	for _, p := range []*proc.Process{n.containerd, n.kubelet} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// Stop ends the kubelet, removes every pod through the CRI (so the CNI
// plugins release addresses, veths and network namespaces), ends
// containerd and removes whatever is left: shims, mounts, the bridge, the
// cgroup root and the kubelet's log links. Safe to call more than once.
func (n *Node) Stop() {
	if n.kubelet != nil {
		n.kubelet.Stop(stopGrace)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n.containerd != nil {
		if err := removeSandboxes(ctx, n.cfg.Socket()); err != nil {
			n.log.Warn("removing pods through containerd failed; sweeping what they left", "error", err)
		}
		n.containerd.Stop(stopGrace)
	}
	if n.proxy != nil {
		if err := n.proxy.close(); err != nil {
			n.log.Warn("closing the registry proxy failed", "error", err)
		}
		n.proxy = nil
	}
	if err := Cleanup(ctx, n.cfg.Layout, n.log); err != nil {
		n.log.Error("node teardown left something behind", "error", err)
	}
}

func (n *Node) writeFiles(opts Options) error {
	l := opts.Layout
	for _, d := range []string{l.containerdRoot(), l.containerdState(), l.cniConfDir(), l.ipamDir(), l.KubeletRoot(), l.podLogs()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	cni, err := CNIConfig(opts.Config)
	if err != nil {
		return err
	}
	kubelet, err := KubeletConfig(opts.Config)
	if err != nil {
		return err
	}
	files := map[string]string{
		l.containerdConfig(): ContainerdConfig(opts.Config),
		filepath.Join(l.cniConfDir(), "10-podid.conflist"): cni,
		l.kubeletConfig(): kubelet,
		l.resolvConf():    ResolvConf(opts.Config),
	}
	for host, body := range RegistryHosts(opts.Config) {
		files[filepath.Join(l.registryHosts(), host, "hosts.toml")] = body
	}
	if opts.ACR != nil {
		azureJSON, err := AzureJSON(opts.Config)
		if err != nil {
			return err
		}
		provider, err := CredentialProviderConfig(opts.Config)
		if err != nil {
			return err
		}
		files[l.AzureJSONFile()] = azureJSON
		files[l.credentialProviderConfig()] = provider
		if err := linkCredentialProvider(l, opts.ACR.Executable); err != nil {
			return err
		}
		for link, target := range ACRRegistryCerts(opts.Config) {
			if err := linkFile(link, target); err != nil {
				return err
			}
		}
	}
	for path, body := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := opts.WriteKubeconfig(opts.Name, l.kubeletKubeconfig()); err != nil {
		return err
	}
	return nil
}

// linkCredentialProvider puts the podid executable in the kubelet's
// plugin folder under the provider's name. A link rather than a copy: the
// kubelet runs the podid that started the node.
func linkCredentialProvider(l Layout, executable string) error {
	if executable == "" {
		return errors.New("the ACR credential provider needs the podid executable; none given")
	}
	abs, err := filepath.Abs(executable)
	if err != nil {
		return fmt.Errorf("find the podid executable %s: %w", executable, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("the credential provider's podid executable: %w", err)
	}
	return linkFile(filepath.Join(l.credentialProviderBinDir(), CredentialProviderName), abs)
}

func startContainerd(ctx context.Context, l Layout, name string, env []string) (*proc.Process, error) {
	if err := l.checkSocketPaths(); err != nil {
		return nil, err
	}
	p, err := proc.Start(proc.Spec{Name: name, Path: "containerd", Args: []string{"--config", l.containerdConfig()}, Env: env, LogFile: l.ContainerdLog()})
	if err != nil {
		return nil, err
	}
	cri, err := dialCRI(l.Socket())
	if err != nil {
		p.Stop(stopGrace)
		return nil, err
	}
	defer cri.close()
	ctx, cancel := context.WithTimeout(ctx, DefaultStartTimeout)
	defer cancel()
	if err := p.WaitUntil(ctx, 100*time.Millisecond, cri.ready); err != nil {
		p.Stop(stopGrace)
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	return p, nil
}

func (n *Node) startKubelet(ctx context.Context, opts Options) (*proc.Process, error) {
	l := opts.Layout
	args := []string{
		"--config=" + l.kubeletConfig(),
		"--kubeconfig=" + l.kubeletKubeconfig(),
		"--root-dir=" + l.KubeletRoot(),
		"--cert-dir=" + filepath.Join(l.KubeletRoot(), "pki"),
		"--hostname-override=" + opts.Name,
		"--node-ip=" + l.NodeIP.String(),
		"--v=2",
	}
	args = append(args, kubeletCredentialArgs(opts.Config)...)
	if len(opts.Labels) > 0 {
		keys := make([]string, 0, len(opts.Labels))
		for k := range opts.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kv := make([]string, 0, len(keys))
		for _, k := range keys {
			kv = append(kv, k+"="+opts.Labels[k])
		}
		args = append(args, "--node-labels="+strings.Join(kv, ","))
	}
	p, err := proc.Start(proc.Spec{Name: "kubelet " + opts.Name, Path: opts.KubeletBin, Args: args, LogFile: l.KubeletLog()})
	if err != nil {
		return nil, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(opts.HealthzPort) + "/healthz"
	client := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(ctx, DefaultStartTimeout)
	defer cancel()
	err = p.WaitUntil(ctx, 200*time.Millisecond, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("kubelet /healthz: %d", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		p.Stop(stopGrace)
		return nil, fmt.Errorf("start kubelet of node %s: %w", opts.Name, err)
	}
	return p, nil
}

func removeSandboxes(ctx context.Context, socket string) error {
	cri, err := dialCRI(socket)
	if err != nil {
		return err
	}
	defer cri.close()
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	return cri.removeSandboxes(ctx)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

var errLeftBehind = errors.New("left behind")

package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podid/podid/internal/proc"
)

// Defaults for Options.
const (
	DefaultStartTimeout       = 60 * time.Second
	DefaultStopGrace          = 5 * time.Second
	DefaultServiceClusterCIDR = "10.96.0.0/16"
)

// Options configure a control plane.
type Options struct {
	// BinDir holds kube-apiserver and etcd (hack/k8s-bin.sh prints it).
	BinDir string
	// Dir receives certificates, etcd data, logs and the kubeconfig. It must
	// exist; the caller owns it.
	Dir string
	// APIServerPort is the apiserver's secure port on 127.0.0.1; 0 picks a
	// free one.
	APIServerPort int
	// ServiceAccountIssuer is the iss claim of service-account tokens; empty
	// means https://127.0.0.1:<port>, where the apiserver serves its own
	// OIDC discovery document.
	ServiceAccountIssuer string
	// ExtraAPIServerArgs are appended to the apiserver's flags ("--name=value").
	ExtraAPIServerArgs []string
	// StartTimeout bounds the whole start; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// Controllers also runs kube-scheduler and kube-controller-manager
	// (BinDir must hold them), so Deployments, ReplicaSets, Jobs and
	// unscheduled pods work as in a real cluster.
	Controllers bool
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Config is an admin (system:masters) client configuration.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file holding Config.
	Kubeconfig string
	// URL is the apiserver's address, https://127.0.0.1:<port>.
	URL string
	// CAFile holds the CA that signed the apiserver's serving certificate.
	CAFile string
	// Issuer is the service-account token issuer.
	Issuer string
	// ServiceAccountKeyFile is the public key that verifies service-account tokens.
	ServiceAccountKeyFile string

	// keys issue node credentials (NodeKubeconfig).
	keys            *pki
	etcd, apiserver *proc.Process
	// controllers are kube-scheduler and kube-controller-manager, when run.
	controllers []*proc.Process
}

// Start runs etcd and kube-apiserver and returns once the apiserver reports
// ready. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *ControlPlane, retErr error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	bins := []string{"etcd", "kube-apiserver"}
	if opts.Controllers {
		bins = append(bins, ControllerBinaries...)
	}
	for _, bin := range bins {
		if _, err := os.Stat(filepath.Join(opts.BinDir, bin)); err != nil {
			return nil, fmt.Errorf("find %s in %q: %w (run hack/k8s-bin.sh to build it)", bin, opts.BinDir, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	certDir := filepath.Join(opts.Dir, "pki")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", certDir, err)
	}
	keys, err := newPKI(certDir, time.Now())
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{CAFile: keys.ca.certFile, ServiceAccountKeyFile: keys.saPub, keys: keys}
	defer func() {
		if retErr != nil {
			cp.Stop()
		}
	}()

	etcdURL, err := cp.startEtcd(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := cp.startAPIServer(ctx, opts, keys, etcdURL); err != nil {
		return nil, err
	}
	cp.Kubeconfig = filepath.Join(opts.Dir, "kubeconfig")
	if err := writeKubeconfig(cp.Kubeconfig, cp.URL, keys); err != nil {
		return nil, err
	}
	if err := publishIssuer(ctx, cp.Config); err != nil {
		return nil, err
	}
	if opts.Controllers {
		if err := cp.startControllers(ctx, opts, keys); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

// publishIssuer lets anyone read the service-account issuer's discovery
// document and keys, as Azure AD must to verify federated tokens (AKS's
// OIDC issuer is public the same way). Everything else stays behind RBAC.
func publishIssuer(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create clientset: %w", err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "podid:public-service-account-issuer-discovery"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:unauthenticated"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("publish service-account issuer discovery: %w", err)
	}
	return nil
}

func (cp *ControlPlane) startEtcd(ctx context.Context, opts Options) (string, error) {
	clientPort, err := FreePort()
	if err != nil {
		return "", err
	}
	peerPort, err := FreePort()
	if err != nil {
		return "", err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	cp.etcd, err = proc.Start(proc.Spec{
		Name: "etcd",
		Path: filepath.Join(opts.BinDir, "etcd"),
		Args: []string{
			"--name=podid",
			"--data-dir=" + filepath.Join(opts.Dir, "etcd"),
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=podid=" + peerURL,
			// A local, throw-away cluster: durability is not worth the
			// fsync latency, which dominates etcd's cost on small VMs.
			"--unsafe-no-fsync",
			"--log-level=warn",
		},
		LogFile: filepath.Join(opts.Dir, "etcd.log"),
	})
	if err != nil {
		return "", err
	}
	health := &http.Client{Timeout: time.Second}
	err = cp.etcd.WaitUntil(ctx, 50*time.Millisecond, func(ctx context.Context) error {
		return httpOK(ctx, health, clientURL+"/health")
	})
	if err != nil {
		return "", fmt.Errorf("start etcd: %w", err)
	}
	return clientURL, nil
}

func (cp *ControlPlane) startAPIServer(ctx context.Context, opts Options, keys *pki, etcdURL string) error {
	port := opts.APIServerPort
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return err
		}
	}
	cp.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	cp.Issuer = opts.ServiceAccountIssuer
	if cp.Issuer == "" {
		cp.Issuer = cp.URL
	}
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + keys.serving.certFile,
		"--tls-private-key-file=" + keys.serving.keyFile,
		"--client-ca-file=" + keys.ca.certFile,
		"--service-account-issuer=" + cp.Issuer,
		"--service-account-key-file=" + keys.saPub,
		"--service-account-signing-key-file=" + keys.saKey,
		"--service-cluster-ip-range=" + DefaultServiceClusterCIDR,
		// Node: kubelets of real nodes read and write only what their
		// own pods need, as on AKS.
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		// 127.0.0.1 may not be an endpoint of the kubernetes Service.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--kubelet-client-certificate=" + keys.kubeletClient.certFile,
		"--kubelet-client-key=" + keys.kubeletClient.keyFile,
		// Real nodes register their bridge address as InternalIP; node
		// names do not resolve.
		"--kubelet-preferred-address-types=InternalIP,Hostname",
	}
	if !opts.Controllers {
		// No kube-controller-manager creates default ServiceAccounts
		// then, and kwok runs no containers to mount their tokens into.
		args = append(args, "--disable-admission-plugins=ServiceAccount")
	}
	args = append(args, opts.ExtraAPIServerArgs...)
	var err error
	cp.apiserver, err = proc.Start(proc.Spec{
		Name:    "kube-apiserver",
		Path:    filepath.Join(opts.BinDir, "kube-apiserver"),
		Args:    args,
		LogFile: filepath.Join(opts.Dir, "kube-apiserver.log"),
	})
	if err != nil {
		return err
	}
	client, err := adminHTTPClient(keys)
	if err != nil {
		return err
	}
	err = cp.apiserver.WaitUntil(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		return httpOK(ctx, client, cp.URL+"/readyz")
	})
	if err != nil {
		return fmt.Errorf("start kube-apiserver: %w", err)
	}
	cp.Config = &rest.Config{
		Host: cp.URL,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: keys.ca.certPEM, CertData: keys.admin.certPEM, KeyData: keys.admin.keyPEM,
		},
		QPS: 1000, Burst: 2000,
	}
	return nil
}

// ControllerBinaries are the binaries Options.Controllers needs.
var ControllerBinaries = []string{"kube-scheduler", "kube-controller-manager"}

// Stop ends the controllers, the apiserver, then etcd. It is safe to call
// more than once.
func (cp *ControlPlane) Stop() {
	for _, p := range cp.controllers {
		p.Stop(DefaultStopGrace)
	}
	if cp.apiserver != nil {
		cp.apiserver.Stop(DefaultStopGrace)
	}
	if cp.etcd != nil {
		cp.etcd.Stop(DefaultStopGrace)
	}
}

// PIDs lists the running children, for status output and leak checks.
func (cp *ControlPlane) PIDs() map[string]int {
	out := map[string]int{}
	for _, p := range append([]*proc.Process{cp.etcd, cp.apiserver}, cp.controllers...) {
		if p != nil {
			out[p.Name()] = p.PID()
		}
	}
	return out
}

func adminHTTPClient(keys *pki) (*http.Client, error) {
	pool := x509.NewCertPool()
	pool.AddCert(keys.ca.cert)
	cert, err := tls.X509KeyPair(keys.admin.certPEM, keys.admin.keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load admin certificate: %w", err)
	}
	return &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}},
	}, nil
}

var errNotReady = errors.New("not ready")

func httpOK(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d: %w", url, resp.StatusCode, errNotReady)
	}
	return nil
}

func writeKubeconfig(path, server string, keys *pki) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["podid"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: keys.ca.certPEM}
	cfg.AuthInfos["podid-admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: keys.admin.certPEM, ClientKeyData: keys.admin.keyPEM}
	cfg.Contexts["podid"] = &clientcmdapi.Context{Cluster: "podid", AuthInfo: "podid-admin"}
	cfg.CurrentContext = "podid"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

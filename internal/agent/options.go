package agent

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/pflag"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/agent/podindex"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
)

// Options configure the node agent. Environment variables NODE_NAME,
// NODE_IP, POD_NAMESPACE, POD_NAME, POD_UID and SERVICE_ACCOUNT_NAME provide
// defaults (set them with the downward API).
type Options struct {
	NodeName string
	NodeIP   string

	ListenAddress  string
	ProbeAddress   string
	MetricsAddress string

	MetadataAddress       string
	NodeIMDSURL           string
	BlockInstanceMetadata bool
	ProxyOtherPaths       bool

	AssignmentWait time.Duration
	RetryAfter     time.Duration
	NewPodGrace    time.Duration

	TokenMode               string
	AuthorityHost           string
	TenantID                string
	AuthorityCAFile         string
	ServiceAccountNamespace string
	ServiceAccountName      string
	TokenTimeout            time.Duration

	CacheSize     int
	RefreshBefore time.Duration

	HostTokenAllow []string

	PodRate     float64
	PodBurst    int
	PodInFlight int

	ManageIPTables bool
	// PodInterfaces ties each pod's redirect to its host-side interface
	// (found through /proc and netlink, so the agent needs the host PID
	// namespace); PodCIDRs are redirected only when the CNI gives no
	// per-pod interface. False redirects PodCIDRs always.
	PodInterfaces        bool
	PodCIDRs             []string
	IPTablesSyncInterval time.Duration
	// RemoveRulesOnUninstall watches the DaemonSet of the agent's pod and
	// removes the rules on exit once that DaemonSet was deleted.
	RemoveRulesOnUninstall bool
	// IPTables is the iptables the agent runs: netrules.IPTablesOnPath,
	// netrules.IPTablesAuto (the node's backend) or an absolute path.
	IPTables string

	// LockFile is the node lock held while the agent manages iptables, so
	// that a second agent on the node refuses to start; LockWait is how
	// long a starting agent waits for the holder to stop.
	LockFile string
	LockWait time.Duration
	// WaitForOtherAgents keeps an agent that finds another agent's
	// metadata redirect on the node (aad-pod-identity's NMI) waiting, not
	// ready and with its guard in place, until that redirect is gone;
	// false refuses to start at once.
	WaitForOtherAgents bool
	// Pod (namespace/name) and PodUID are this agent's pod, from
	// $POD_NAMESPACE, $POD_NAME and $POD_UID; written into the lock file
	// so that a refused agent can name this one.
	Pod    string
	PodUID string

	Resync time.Duration

	// ClusterWideBindings must equal mic's option of the same name: the
	// agent honours an assignment only when the binding may serve the
	// pod's namespace by the same rule mic applies.
	ClusterWideBindings bool

	// KubeletDir is the kubelet's --root-dir: workload-identity pods'
	// projected tokens are read from its pods/ folder.
	KubeletDir string

	// NotReadyTaint is the taint the agent removes from its node once it
	// is ready (v1.AgentNotReadyTaint); empty leaves taints alone.
	NotReadyTaint string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		NodeName:                os.Getenv("NODE_NAME"),
		NodeIP:                  os.Getenv("NODE_IP"),
		ListenAddress:           ":2579",
		ProbeAddress:            ":8085",
		MetricsAddress:          ":9090",
		MetadataAddress:         "169.254.169.254:80",
		NodeIMDSURL:             tokens.DefaultIMDSEndpoint,
		BlockInstanceMetadata:   true,
		AssignmentWait:          server.DefaultAssignmentWait,
		RetryAfter:              server.DefaultRetryAfter,
		NewPodGrace:             server.DefaultNewPodGrace,
		TokenMode:               string(tokens.ModeFederated),
		AuthorityHost:           tokens.DefaultAuthorityHost,
		KubeletDir:              podindex.DefaultKubeletDir,
		ServiceAccountNamespace: envOr("POD_NAMESPACE", "kube-system"),
		ServiceAccountName:      envOr("SERVICE_ACCOUNT_NAME", "podid-nmi"),
		TokenTimeout:            server.DefaultTokenTimeout,
		CacheSize:               tokens.DefaultCacheEntries,
		HostTokenAllow:          slices.Clone(DefaultHostTokenAllow),
		PodRate:                 server.DefaultPodRate,
		PodBurst:                server.DefaultPodBurst,
		PodInFlight:             server.DefaultPodInFlight,
		RefreshBefore:           tokens.DefaultRefreshBefore,
		ManageIPTables:          true,
		PodInterfaces:           true,
		IPTablesSyncInterval:    time.Minute,
		IPTables:                netrules.IPTablesOnPath,
		LockFile:                DefaultLockFile,
		LockWait:                DefaultLockWait,
		WaitForOtherAgents:      true,
		Pod:                     podFromEnv(),
		PodUID:                  os.Getenv("POD_UID"),
		NotReadyTaint:           v1.AgentNotReadyTaint,
	}
}

// Node lock defaults. The wait covers an agent of the same installation
// that is still shutting down when its successor starts.
const (
	DefaultLockFile = "/run/podid/nmi.lock"
	DefaultLockWait = 30 * time.Second
)

// podFromEnv is namespace/name from the downward API, "" outside a pod.
func podFromEnv() string {
	name, ns := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if name == "" || ns == "" {
		return ""
	}
	return ns + "/" + name
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "Name of this node; only its pods and assignments are served (default $NODE_NAME).")
	fs.StringVar(&o.NodeIP, "node-ip", o.NodeIP, "This node's IP, the address iptables redirects pods' metadata traffic to (default $NODE_IP).")
	fs.StringVar(&o.ListenAddress, "listen-address", o.ListenAddress, "Address (host:port) of the IMDS-compatible token server; the port is the redirect target.")
	fs.StringVar(&o.ProbeAddress, "probe-address", o.ProbeAddress, "Address of /healthz and /readyz. Empty disables them.")
	fs.StringVar(&o.MetricsAddress, "metrics-address", o.MetricsAddress, "Address of the Prometheus /metrics endpoint. Empty disables it.")
	fs.StringVar(&o.MetadataAddress, "metadata-address", o.MetadataAddress, "IP:port pods call for tokens; traffic to it is redirected to the agent.")
	fs.StringVar(&o.NodeIMDSURL, "node-imds-url", o.NodeIMDSURL, "Base URL of the node's real IMDS, for node-mode tokens, exempt pods and proxied paths.")
	fs.BoolVar(&o.BlockInstanceMetadata, "block-instance-metadata", o.BlockInstanceMetadata, "Answer /metadata/instance with 403 instead of proxying it to the node's IMDS for known pods.")
	fs.BoolVar(&o.ProxyOtherPaths, "proxy-other-paths", o.ProxyOtherPaths, "Proxy paths the agent does not serve to the node's IMDS for known pods, instead of answering 403.")
	fs.DurationVar(&o.AssignmentWait, "assignment-wait", o.AssignmentWait, "Longest time a token request waits for its pod or assignment to appear or become Assigned before answering 503 with Retry-After. 0 answers at once.")
	fs.DurationVar(&o.RetryAfter, "retry-after", o.RetryAfter, "Retry-After sent with 503 answers, whole seconds from 1s to 25s (SDKs stop retrying above 25s).")
	fs.DurationVar(&o.NewPodGrace, "new-pod-grace", o.NewPodGrace, "Age under which a pod missing the identity it asks for gets 503 (retry) rather than 400. 0 disables the grace.")
	fs.StringVar(&o.TokenMode, "token-mode", o.TokenMode, "Default way to get tokens: node (node IMDS for managed identities, the identity's secret or certificate for service principals) or federated (exchange the agent's service-account token; no VMSS change). Identities override it with the aadpodidentity.k8s.io/token-mode annotation.")
	fs.StringVar(&o.AuthorityHost, "authority-host", o.AuthorityHost, "Azure AD base URL (https) for service principals and federated mode.")
	fs.StringVar(&o.TenantID, "tenant-id", o.TenantID, "Azure AD tenant for identities that name none (managed identities in federated mode).")
	fs.StringVar(&o.AuthorityCAFile, "authority-ca-file", o.AuthorityCAFile, "PEM file of CA certificates to trust for the authority host. Empty uses the system roots.")
	fs.StringVar(&o.ServiceAccountNamespace, "service-account-namespace", o.ServiceAccountNamespace, "Namespace of the agent's service account, whose tokens federated mode exchanges (default $POD_NAMESPACE).")
	fs.StringVar(&o.ServiceAccountName, "service-account-name", o.ServiceAccountName, "The agent's service account (default $SERVICE_ACCOUNT_NAME).")
	fs.DurationVar(&o.TokenTimeout, "token-timeout", o.TokenTimeout, "Longest time one upstream token call (IMDS or Azure AD) may take.")
	fs.IntVar(&o.CacheSize, "token-cache-size", o.CacheSize, "Most tokens kept (identities × resources), least recently used evicted first. 0 disables caching.")
	fs.DurationVar(&o.RefreshBefore, "token-refresh-before", o.RefreshBefore, "Renew a cached token once less than this is left (or half its lifetime, if shorter). Keep it above 5m: SDKs discard tokens with less left.")
	fs.StringSliceVar(&o.HostTokenAllow, "host-token-allow", o.HostTokenAllow, "Host components that may call /host/token and name any pod of the node: namespace/serviceaccount of a pod (found through the calling process's cgroup, so the agent needs the host PID namespace), or \"node\" for root processes in no pod. Empty disables /host/token.")
	fs.Float64Var(&o.PodRate, "pod-request-rate", o.PodRate, "Token requests per second one pod may make on average; more get 429 with Retry-After. 0 disables the limit.")
	fs.IntVar(&o.PodBurst, "pod-request-burst", o.PodBurst, "Token requests one pod may make at once above --pod-request-rate.")
	fs.IntVar(&o.PodInFlight, "pod-max-in-flight", o.PodInFlight, "Token requests of one pod that may be in progress at once (waiting for an assignment or Azure AD); more get 429. 0 disables the cap.")
	fs.BoolVar(&o.ManageIPTables, "manage-iptables", o.ManageIPTables, "Install and repair the iptables rules that redirect pods' metadata traffic to the agent. They stay when the agent exits, so pods never reach the node's IMDS while it is down; `nmi cleanup` removes them on uninstall.")
	fs.BoolVar(&o.PodInterfaces, "pod-interfaces", o.PodInterfaces, "With --manage-iptables: redirect each pod's metadata traffic only when it arrives from that pod's own host-side interface (a veth, or a bridge port matched with physdev), so a pod spoofing another pod's address is refused. The interfaces are found through the pods' processes, so the agent needs the host PID namespace. Where none is found (a CNI without per-pod interfaces, or br_netfilter not loaded for a bridge CNI) the agent logs why and redirects --pod-cidr. false always redirects --pod-cidr.")
	fs.StringSliceVar(&o.PodCIDRs, "pod-cidr", o.PodCIDRs, "Pod CIDRs of this node, redirected when the CNI gives no per-pod interfaces or with --pod-interfaces=false (comma-separated).")
	fs.DurationVar(&o.IPTablesSyncInterval, "iptables-sync-interval", o.IPTablesSyncInterval, "How often the rules are checked and repaired.")
	AddIPTablesFlag(fs, &o.IPTables)
	fs.BoolVar(&o.RemoveRulesOnUninstall, "remove-rules-on-uninstall", o.RemoveRulesOnUninstall, "With --manage-iptables, in a pod of a DaemonSet ($POD_NAMESPACE, $POD_NAME): watch that DaemonSet and, once it is deleted (helm uninstall, kubectl delete -f), remove the rules when the agent exits. A restart, rollout or crash keeps them; so does any doubt (then run `nmi cleanup`).")
	fs.StringVar(&o.LockFile, "lock-file", o.LockFile, "With --manage-iptables: file in a host folder the agent locks (flock) while it runs, so that a second agent on the node (another podid installation) refuses to start. Every agent of a node must use the same file. Empty disables the lock.")
	fs.DurationVar(&o.LockWait, "lock-wait", o.LockWait, "How long a starting agent waits for another agent holding --lock-file to stop (e.g. the previous agent of a rolling update) before refusing to start. 0 refuses at once.")
	fs.BoolVar(&o.WaitForOtherAgents, "wait-for-other-agents", o.WaitForOtherAgents, "With --manage-iptables, when another agent's metadata redirect is on the node (aad-pod-identity's NMI): install only the guard that refuses pods' unredirected metadata traffic, stay not ready with the reason, and take over within a second once that redirect is gone (its uninstall). false refuses to start at once.")
	fs.StringVar(&o.KubeletDir, "kubelet-dir", o.KubeletDir, "The kubelet's --root-dir on this node. A workload-identity pod (label azure.workload.identity/use) calling IMDS gets tokens by exchanging its own projected service-account token, read from here.")
	fs.StringVar(&o.NotReadyTaint, "remove-node-taint", o.NotReadyTaint, "Taint key the agent removes from its node once its rules are in place and it serves, so that nodes registered with it get no workload before the agent runs; empty leaves the node's taints alone.")
	fs.BoolVar(&o.ClusterWideBindings, "cluster-wide-bindings", o.ClusterWideBindings, "Set it as on mic: bindings serve pods of every namespace. The agent honours only the assignments mic's rule justifies, so the two must agree.")
	fs.DurationVar(&o.Resync, "resync", o.Resync, "Informer resync period. 0 disables resyncs; watches deliver every change anyway.")
}

// Validate checks the options and says what to fix.
func (o *Options) Validate() error {
	var errs []error
	if o.NodeName == "" {
		errs = append(errs, errors.New("--node-name (or $NODE_NAME) is required"))
	}
	if _, _, err := net.SplitHostPort(o.ListenAddress); err != nil {
		errs = append(errs, fmt.Errorf("--listen-address %q: %w", o.ListenAddress, err))
	}
	if _, err := netip.ParseAddrPort(o.MetadataAddress); err != nil {
		errs = append(errs, fmt.Errorf("--metadata-address %q: want IP:port: %w", o.MetadataAddress, err))
	}
	if u, err := url.Parse(o.NodeIMDSURL); err != nil || u.Host == "" {
		errs = append(errs, fmt.Errorf("--node-imds-url %q is not a URL", o.NodeIMDSURL))
	}
	for _, e := range o.HostTokenAllow {
		if err := validHostCaller(e); err != nil {
			errs = append(errs, err)
		}
	}
	if o.PodRate < 0 || o.PodBurst < 0 || o.PodInFlight < 0 {
		errs = append(errs, errors.New("--pod-request-rate, --pod-request-burst and --pod-max-in-flight must not be negative"))
	}
	if o.PodRate > 0 && o.PodBurst < 1 {
		errs = append(errs, errors.New("--pod-request-burst must be at least 1 when --pod-request-rate is set"))
	}
	if o.AssignmentWait < 0 || o.NewPodGrace < 0 || o.TokenTimeout <= 0 || o.RefreshBefore < 0 || o.CacheSize < 0 || o.Resync < 0 {
		errs = append(errs, errors.New("durations and sizes must not be negative, and --token-timeout must be positive"))
	}
	if o.RetryAfter < time.Second || o.RetryAfter > server.MaxRetryAfter || o.RetryAfter%time.Second != 0 {
		errs = append(errs, fmt.Errorf("--retry-after %s: want whole seconds from 1s to %s", o.RetryAfter, server.MaxRetryAfter))
	}
	switch tokens.Mode(o.TokenMode) {
	case tokens.ModeNode:
	case tokens.ModeFederated:
		if o.ServiceAccountName == "" || o.ServiceAccountNamespace == "" {
			errs = append(errs, errors.New("--token-mode=federated needs --service-account-namespace and --service-account-name"))
		}
	default:
		errs = append(errs, fmt.Errorf("--token-mode %q: want node or federated", o.TokenMode))
	}
	if u, err := url.Parse(o.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("--authority-host %q: want an https URL", o.AuthorityHost))
	}
	if o.ManageIPTables {
		if _, err := netip.ParseAddr(o.NodeIP); err != nil {
			errs = append(errs, errors.New("--manage-iptables needs --node-ip (or $NODE_IP), the redirect target"))
		}
		if len(o.PodCIDRs) == 0 {
			errs = append(errs, errors.New("--manage-iptables needs --pod-cidr, redirected where the CNI gives no per-pod interfaces"))
		}
		for _, c := range o.PodCIDRs {
			if _, err := netip.ParsePrefix(c); err != nil {
				errs = append(errs, fmt.Errorf("--pod-cidr %q: %w", c, err))
			}
		}
		if o.IPTablesSyncInterval <= 0 {
			errs = append(errs, errors.New("--iptables-sync-interval must be positive"))
		}
		if o.LockWait < 0 {
			errs = append(errs, errors.New("--lock-wait must not be negative"))
		}
		if err := validIPTables(o.IPTables); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AddIPTablesFlag binds --iptables to p, for the agent and for `nmi
// cleanup`, which must remove the rules with the backend that wrote them.
func AddIPTablesFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "iptables", *p, "The iptables to run: \"iptables\", the one on PATH; \"auto\", the backend the node's own components use, iptables-nft or iptables-legacy (the one holding kubelet's KUBE-IPTABLES-HINT chain in table mangle, else the one with more rules, else nft) — use it with the podid image, which carries both; or an absolute path to an iptables binary.")
}

// validIPTables checks a --iptables value without looking for the binary,
// which Run does once it is on the node.
func validIPTables(v string) error {
	if v == netrules.IPTablesOnPath || v == netrules.IPTablesAuto || filepath.IsAbs(v) {
		return nil
	}
	return fmt.Errorf("--iptables %q: want iptables, auto or an absolute path", v)
}

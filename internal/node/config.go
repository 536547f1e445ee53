package node

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// DefaultCNIBinDir is where Debian's containernetworking-plugins installs
// the bridge, host-local and loopback plugins.
const DefaultCNIBinDir = "/usr/lib/cni"

// Registry is an image registry the node's containerd reaches at another
// address, e.g. podid's loopback registry of locally built images.
type Registry struct {
	// Host is the registry name in image references ("podid.local").
	Host string
	// Endpoint is where containerd pulls from ("http://127.0.0.1:5000").
	Endpoint string
}

// Mirrors sends each of hosts to the registry at endpoint.
func Mirrors(endpoint string, hosts []string) []Registry {
	out := make([]Registry, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, Registry{Host: h, Endpoint: endpoint})
	}
	return out
}

// Config is everything that shapes a node's configuration files.
type Config struct {
	Layout
	// Name is the Node object's name; ProviderID ties it to its VMSS
	// instance (azure:///subscriptions/.../virtualMachines/<n>).
	Name, ProviderID string
	// SandboxImage is the pause image every pod's sandbox runs.
	SandboxImage string
	// Registries are the mirrors containerd uses.
	Registries []Registry
	// KubeletPort serves the kubelet API (logs, exec) on NodeIP;
	// HealthzPort serves its /healthz on 127.0.0.1.
	KubeletPort, HealthzPort int
	// ClientCAFile verifies the apiserver's client certificate.
	ClientCAFile string
	// Labels and Taints are registered with the Node.
	Labels map[string]string
	Taints []corev1.Taint
	// ClusterDNS is the resolver pods use; invalid means NodeIP.
	ClusterDNS netip.Addr
	// CNIBinDir holds the CNI plugins; empty means DefaultCNIBinDir.
	CNIBinDir string
	// ACR, when set, lets the node pull from the embedded cloud's
	// container registries with the kubelet identity (see ACR).
	ACR *ACR
}

func (c Config) cniBinDir() string {
	if c.CNIBinDir == "" {
		return DefaultCNIBinDir
	}
	return c.CNIBinDir
}

func (c Config) clusterDNS() netip.Addr {
	if c.ClusterDNS.IsValid() {
		return c.ClusterDNS
	}
	return c.NodeIP
}

// ContainerdConfig renders containerd's config.toml: every path under the
// node folder, runc with cgroupfs (the machine's hybrid cgroup layout),
// and restrict_oom_score_adj because the sandbox this runs in may not lower
// oom_score_adj (runc fails with "can't get final child's PID from pipe"
// otherwise).
func ContainerdConfig(c Config) string {
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, `version = 2
root = %s
state = %s
oom_score = 0
# Snapshotters and tracing podid never uses; they only add start-up noise.
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = %s

[ttrpc]
  address = %s

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %s

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %s
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = %s

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = %s
  conf_dir = %s
  max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = %s
`, q(c.containerdRoot()), q(c.containerdState()), q(c.Socket()), q(c.Socket()+".ttrpc"),
		q(c.containerdRoot()+"/opt"), q(c.SandboxImage), q(filepath.Join(c.containerdState(), "runc")), q(c.cniBinDir()), q(c.cniConfDir()), q(c.registryHosts()))
	return b.String()
}

// RegistryHosts renders containerd's hosts.toml for each registry, keyed
// by the folder name containerd looks it up under.
func RegistryHosts(c Config) map[string]string {
	out := map[string]string{}
	for _, r := range c.Registries {
		q := strconv.Quote
		out[r.Host] = fmt.Sprintf("server = %s\n\n[host.%s]\n  capabilities = [\"pull\", \"resolve\"]\n", q(r.Endpoint), q(r.Endpoint))
	}
	return out
}

// CNIConfig renders the bridge network: pods on Bridge with addresses from
// PodCIDR (host-local IPAM keeping its state in the node folder) and
// NodeIP as their gateway. No masquerade: pods reach the node's addresses
// only, so no rule is added outside podid's own.
func CNIConfig(c Config) (string, error) {
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "podid",
		"plugins": []any{
			map[string]any{
				"type":      "bridge",
				"bridge":    c.Bridge,
				"isGateway": true,
				"ipMasq":    false,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": c.ipamDir(),
					"ranges": [][]map[string]string{{{
						"subnet":  c.PodCIDR.String(),
						"gateway": c.NodeIP.String(),
					}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "loopback"},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return "", fmt.Errorf("render CNI config: %w", err)
	}
	return string(b) + "\n", nil
}

// KubeletConfig renders the KubeletConfiguration: cgroupfs on cgroup v1
// (failCgroupV1 false), the node's own cgroup root, ports and folders of
// its own, authentication of the apiserver by client certificate and
// authorization through SubjectAccessReview, and eviction thresholds low
// enough that a shared development disk never taints the node.
func KubeletConfig(c Config) (string, error) {
	labels := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		labels = append(labels, k)
	}
	sort.Strings(labels)
	kc := kubeletv1beta1.KubeletConfiguration{
		TypeMeta:           metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
		Address:            c.NodeIP.String(),
		Port:               int32(c.KubeletPort),
		ReadOnlyPort:       0,
		HealthzBindAddress: "127.0.0.1",
		HealthzPort:        ptr.To(int32(c.HealthzPort)),
		Authentication: kubeletv1beta1.KubeletAuthentication{
			X509:      kubeletv1beta1.KubeletX509Authentication{ClientCAFile: c.ClientCAFile},
			Webhook:   kubeletv1beta1.KubeletWebhookAuthentication{Enabled: ptr.To(true)},
			Anonymous: kubeletv1beta1.KubeletAnonymousAuthentication{Enabled: ptr.To(false)},
		},
		Authorization:            kubeletv1beta1.KubeletAuthorization{Mode: kubeletv1beta1.KubeletAuthorizationModeWebhook},
		CgroupDriver:             "cgroupfs",
		CgroupRoot:               c.CgroupRoot(),
		FailCgroupV1:             ptr.To(false),
		FailSwapOn:               ptr.To(false),
		ContainerRuntimeEndpoint: "unix://" + c.Socket(),
		PodCIDR:                  c.PodCIDR.String(),
		ProviderID:               c.ProviderID,
		ClusterDomain:            "cluster.local",
		ClusterDNS:               []string{c.clusterDNS().String()},
		ResolverConfig:           ptr.To(c.resolvConf()),
		PodLogsDir:               c.podLogs(),
		RegisterNode:             ptr.To(true),
		RegisterWithTaints:       c.Taints,
		SerializeImagePulls:      ptr.To(false),
		EvictionHard: map[string]string{
			"memory.available": "100Mi", "nodefs.available": "1%",
			"imagefs.available": "1%", "nodefs.inodesFree": "1%",
		},
		ImageGCHighThresholdPercent: ptr.To(int32(99)),
		ImageGCLowThresholdPercent:  ptr.To(int32(98)),
		// Tests and demos create and delete pods quickly; report status
		// changes promptly.
		NodeStatusUpdateFrequency: metav1.Duration{Duration: 10e9},
	}
	b, err := yaml.Marshal(kc)
	if err != nil {
		return "", fmt.Errorf("render kubelet config: %w", err)
	}
	return string(b), nil
}

// ResolvConf is the resolver file the kubelet hands pods with dnsPolicy
// Default, and whose search list ClusterFirst pods inherit: the node's DNS
// only, never the machine's, whose servers pods cannot reach.
func ResolvConf(c Config) string {
	return "nameserver " + c.clusterDNS().String() + "\n"
}

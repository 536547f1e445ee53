package plan

import (
	"path/filepath"
	"strings"
	"time"

	podidv1 "github.com/podid/podid/api/v1"
)

// NodeModeResync is mic's --cloud-resync in node token mode: short, so a
// role granted to fix a refused assignment shows within seconds.
const NodeModeResync = 10 * time.Second

// Runtime holds what is known only once the control plane and the cloud
// run. Apply fills it; Placeholders stands in for it in printed plans.
type Runtime struct {
	// Executable is the podid binary that runs mic and nmi.
	Executable string
	// CloudURL is the embedded cloud's HTTPS base URL (AAD and ARM).
	CloudURL string
	// CloudCA is the cloud's CA bundle file.
	CloudCA string
	// IMDS maps a cloud instance name to its IMDS base URL.
	IMDS map[string]string
	// Issuer is the kube-apiserver's service-account issuer.
	Issuer string
}

// Placeholders returns a Runtime of readable stand-ins.
func (p *Plan) Placeholders() Runtime {
	rt := Runtime{Executable: "podid", CloudURL: "https://<cloud>", CloudCA: "<cloud-ca.pem>", Issuer: "https://<kube-apiserver>", IMDS: map[string]string{}}
	for _, n := range p.AllNodes() {
		rt.IMDS[n.Instance] = "http://<imds of " + n.Instance + ">"
	}
	return rt
}

// MicArgs are the arguments of `podid mic` (without the executable).
func (p *Plan) MicArgs(rt Runtime) []string {
	args := []string{
		"mic",
		"--kubeconfig=" + p.Kubeconfig,
		"--leader-elect=false",
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
		"--token-mode=" + p.TokenMode,
	}
	if p.TokenMode == podidv1.TokenModeNode {
		// A role granted to fix a refusal takes effect within this period.
		args = append(args, "--cloud-resync="+NodeModeResync.String())
	}
	if p.Mic.AppID != "" {
		args = append(args,
			"--arm-endpoint="+rt.CloudURL+"/",
			"--authority-host="+rt.CloudURL+"/",
			"--azure-tenant-id="+p.TenantID,
			"--azure-client-id="+p.Mic.AppID,
			"--azure-client-secret-file="+p.Mic.SecretFile,
			"--cloud-ca-file="+rt.CloudCA,
		)
		if len(p.KubeletIdentities) > 0 {
			args = append(args, "--immutable-identities="+strings.Join(p.KubeletIdentities, ","))
		}
	}
	return append(args, p.Log.Args()...)
}

// AgentArgs are the arguments of `podid nmi` for node n.
func (p *Plan) AgentArgs(n Node, rt Runtime) []string {
	args := []string{
		"nmi",
		"--kubeconfig=" + p.Kubeconfig,
		"--node-name=" + n.Name,
		"--node-ip=" + n.InternalIP.String(),
		"--listen-address=" + n.AgentAddr,
		"--probe-address=" + n.ProbeAddr,
		"--metrics-address=" + n.Metrics,
		"--node-imds-url=" + rt.IMDS[n.Instance],
		"--token-mode=" + p.TokenMode,
		"--authority-host=" + rt.CloudURL + "/",
		"--authority-ca-file=" + rt.CloudCA,
		"--tenant-id=" + p.TenantID,
		"--service-account-namespace=" + AgentNamespace,
		"--service-account-name=" + AgentServiceAccount,
	}
	if n.Real != nil {
		// Containers call 169.254.169.254 from their own network
		// namespaces: the agent redirects them, and its rules stay
		// until podid down uninstalls them.
		// Workload-identity pods' projected tokens are in its kubelet's folder.
		// Real nodes share this machine's kernel: each agent locks a file
		// of its own node, as it would on a machine of its own.
		args = append(args, "--manage-iptables=true", "--pod-cidr="+n.PodCIDR.String(), "--kubelet-dir="+n.Real.KubeletRoot(),
			"--lock-file="+filepath.Join(n.Real.Dir, "nmi.lock"))
	} else {
		args = append(args, "--manage-iptables=false")
	}
	return append(args, p.Log.Args()...)
}

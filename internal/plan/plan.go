package plan

import (
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/kwok"
	"github.com/podid/podid/internal/logging"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/tokens"
)

// DefaultWorld is the built-in world file (see world.yaml).
//
//go:embed world.yaml
var DefaultWorld []byte

// BuiltinWorld names the built-in world where a file name would appear.
const BuiltinWorld = "(built-in)"

// Fixed names and ports of what `podid up` runs.
const (
	// AgentPort is where every node agent answers token requests on its
	// node's InternalIP (aad-pod-identity's nmi port).
	AgentPort = 2579
	// AgentProbePort and AgentMetricsPort serve /readyz and /metrics.
	AgentProbePort   = 8085
	AgentMetricsPort = 9090
	// AgentNamespace and AgentServiceAccount are the node agents' service
	// account, whose tokens the federated exchange presents.
	AgentNamespace      = "kube-system"
	AgentServiceAccount = "podid-nmi"
	// DoctorApp is the world application podid doctor signs in as to read
	// the cloud (Reader on the subscriptions), when the world has it.
	DoctorApp = "podid-doctor"
	// FederationName names the federated credential added to the demo identity.
	FederationName = "podid-up"
	// RunDirName is the folder under the state folder that each start
	// recreates: control-plane data, logs, the cloud's state.
	RunDirName = "run"
)

// Input is everything MakePlan decides from.
type Input struct {
	// StateDir holds the kubeconfig, the state record and the run folder.
	StateDir string
	// Nodes is how many fake nodes to run, each on its own VMSS instance.
	Nodes int
	// RealNodes is how many real nodes (containerd and a kubelet) to run
	// after the fake ones, each on the next VMSS instance.
	RealNodes int
	// APIServerPort and CloudPort are the loopback ports; 0 picks free ones.
	APIServerPort, CloudPort int
	// WorldSource is the world file, or BuiltinWorld.
	WorldSource string
	// World is the parsed world.
	World cloud.State
	// ScaleSet names the VMSS whose instances the nodes stand for; empty
	// takes the first scale set of the world.
	ScaleSet string
	// MicApp names the application mic signs in as; empty or absent in
	// the world leaves node token mode without cloud writes.
	MicApp string
	// Demo is the demo to apply; nil applies none.
	Demo *DemoInput
	// TokenMode is mic's and every agent's --token-mode; empty means
	// federated.
	TokenMode string
	// SkipSteps are seed 004 steps (Steps) whose grants the world loses.
	SkipSteps []string
	// Log is the log format and verbosity of mic, every agent and the
	// embedded cloud, so that the run folder's logs share one format; an
	// empty format means text.
	Log logging.Options
	// SignIn are the Azure AD sign-in options of az aks create.
	SignIn SignInInput
	// WithoutPodid leaves mic, the node agents and the webhook out, for
	// installing podid onto the cluster with its chart or manifest.
	WithoutPodid bool
}

// DemoInput names the world objects the demo uses.
type DemoInput struct {
	// Identity is the user-assigned identity the demo pods are bound to.
	Identity string
	// Vault and Secret are what the demo pods read.
	Vault, Secret string
}

// Plan is what `podid up` will do, decided before anything starts.
type Plan struct {
	// Kubeconfig is the client-certificate admin kubeconfig podid's own
	// components use: in the state folder for operators, or only in the
	// run folder when local accounts are disabled.
	StateDir, RunDir, Kubeconfig, RecordFile, LockFile, LogFile string
	APIServerPort, CloudPort                                    int
	WorldSource                                                 string
	// TokenMode is podidv1.TokenModeFederated or podidv1.TokenModeNode.
	TokenMode string
	// Skipped are the seed 004 steps left out of World.
	Skipped []string
	// Log is the log format and verbosity of mic, the agents and the cloud.
	Log logging.Options
	// CloudLog is the embedded cloud's log file.
	CloudLog string
	// World seeds the embedded cloud.
	World                cloud.State
	TenantID, TenantName string
	// ScaleSetID is the resource ID of the VMSS the nodes stand for.
	ScaleSetID string
	// KubeletIdentity is the VMSS's own identity, never removed by mic.
	KubeletIdentities []string
	// Nodes are the fake (kwok) nodes; RealNodes run containerd and a
	// kubelet. Both are VMSS instances with a node agent each.
	Nodes     []Node
	RealNodes []Node
	// Doctor is podid doctor's read-only sign-in; empty without DoctorApp.
	Doctor Doctor
	// FakeNodeTaint keeps workloads off the fake nodes when real nodes
	// run, so what users apply lands where containers really run; nil
	// without real nodes.
	FakeNodeTaint *corev1.Taint
	// Images are what the real nodes pull from podid's loopback registry.
	Images []Image
	// ACR is how the real nodes pull from the world's container registry;
	// nil without real nodes or without a kubelet identity.
	ACR *ACR
	Mic Mic
	// Federation is the credential the demo identity gets; its issuer is
	// the kube-apiserver's, known once it runs.
	Federation *Federation
	Demo       *Demo
	// SignIn is how people sign in to the cluster with Azure AD.
	SignIn *SignIn
	// Chart is set when podid up runs no podid component of its own: the
	// user installs podid's chart (or manifest) onto the real node with
	// the values it writes.
	Chart *Chart
}

// Node is one fake node and the VMSS instance it stands for.
type Node struct {
	Name       string
	Instance   string // cloud instance name, "<vmss>_<index>"
	ProviderID string
	PodCIDR    netip.Prefix
	InternalIP netip.Addr
	AgentAddr  string
	ProbeAddr  string
	Metrics    string
	AgentLog   string
	// Real is the layout of a real node (bridge, pod CIDR, folder); nil
	// for a fake node.
	Real *node.Layout
}

// AllNodes are the fake nodes, then the real ones.
func (p *Plan) AllNodes() []Node { return append(append([]Node(nil), p.Nodes...), p.RealNodes...) }

// Mic is the controller's cloud sign-in; AppID is empty when mic has none.
type Mic struct {
	App, AppID, Secret, SecretFile, Log string
}

// Doctor is the application podid doctor reads the cloud as.
type Doctor struct {
	AppID, Secret, SecretFile string
}

// Federation is a federated credential to add to an identity at start.
type Federation struct {
	IdentityID string
	Subject    string
	Audience   string
}

// MakePlan decides what to run from in. It reads nothing and starts nothing.
func MakePlan(in Input) (*Plan, error) {
	if in.StateDir == "" {
		return nil, errors.New("a state folder is required")
	}
	if in.Nodes < 1 {
		return nil, fmt.Errorf("--nodes must be at least 1, got %d", in.Nodes)
	}
	if len(in.World.Tenants) == 0 {
		return nil, errors.New("the world has no tenant")
	}
	run := filepath.Join(in.StateDir, RunDirName)
	p := &Plan{
		StateDir: in.StateDir, RunDir: run,
		Kubeconfig:    filepath.Join(in.StateDir, "kubeconfig"),
		RecordFile:    RecordFile(in.StateDir),
		LockFile:      filepath.Join(in.StateDir, "up.lock"),
		LogFile:       filepath.Join(in.StateDir, "up.log"),
		APIServerPort: in.APIServerPort, CloudPort: in.CloudPort,
		WorldSource: in.WorldSource, World: in.World,
		TokenMode: in.TokenMode, Skipped: in.SkipSteps,
		Log: in.Log, CloudLog: filepath.Join(run, "cloud.log"),
	}
	if p.Log.Format == "" {
		p.Log.Format = logging.FormatText
	}
	switch p.TokenMode {
	case "":
		p.TokenMode = podidv1.TokenModeFederated
	case podidv1.TokenModeFederated, podidv1.TokenModeNode:
	default:
		return nil, fmt.Errorf("--token-mode %q: want %s or %s", in.TokenMode, podidv1.TokenModeFederated, podidv1.TokenModeNode)
	}
	vmss, err := pickScaleSet(in.World, in.ScaleSet)
	if err != nil {
		return nil, err
	}
	if in.RealNodes < 0 || in.RealNodes > node.MaxNodes {
		return nil, fmt.Errorf("--real-nodes %d: want 0 to %d", in.RealNodes, node.MaxNodes)
	}
	if in.Nodes+in.RealNodes > vmss.Capacity {
		return nil, fmt.Errorf("--nodes %d and --real-nodes %d: scale set %s has %d instances; raise its capacity in the world file or ask for fewer nodes", in.Nodes, in.RealNodes, vmss.Name, vmss.Capacity)
	}
	p.ScaleSetID, p.KubeletIdentities, p.TenantID = vmss.ID, vmss.UserAssigned, vmss.TenantID
	for _, t := range in.World.Tenants {
		if t.ID == vmss.TenantID {
			p.TenantName = t.Name
		}
	}
	if p.SignIn, err = makeSignIn(in.World, p.TenantID, run, in.SignIn); err != nil {
		return nil, err
	}
	if !p.SignIn.LocalAccounts {
		// The control plane's own copy: operators get none.
		p.Kubeconfig = filepath.Join(run, "kubeconfig")
	}
	for i := 0; i < in.Nodes; i++ {
		cidr, ip, err := kwok.Layout(i)
		if err != nil {
			return nil, err
		}
		p.Nodes = append(p.Nodes, instanceNode(vmss, i, cidr, ip, run))
	}
	for i := 0; i < in.RealNodes; i++ {
		l, err := node.NewLayout(i, node.Dir(run, i))
		if err != nil {
			return nil, err
		}
		n := instanceNode(vmss, in.Nodes+i, l.PodCIDR, l.NodeIP, run)
		n.Real = &l
		p.RealNodes = append(p.RealNodes, n)
	}
	if in.WithoutPodid {
		if in.RealNodes != 1 {
			return nil, fmt.Errorf("--without-podid needs --real-nodes 1 (got %d): podid's chart installs its agent on real nodes, and real nodes share this machine's kernel, where a second agent would find the first one's redirect", in.RealNodes)
		}
		p.Chart = &Chart{ValuesFile: filepath.Join(in.StateDir, ChartValuesFile), Namespace: AgentNamespace, Release: ChartRelease}
	}
	if in.RealNodes > 0 {
		p.FakeNodeTaint = &FakeNodeTaint
		p.Images = Images
		if p.Chart != nil {
			p.Images = append(append([]Image(nil), Images...), PodidImage)
		}
		p.ACR = makeACR(in.World, vmss, p.RealNodes[0].InternalIP, p.Images)
	}
	p.Mic = Mic{Log: filepath.Join(run, "mic.log")}
	skip := skipInput{steps: in.SkipSteps, tokenMode: p.TokenMode}
	if app := findApp(in.World, in.MicApp); app != nil && len(app.Secrets) > 0 {
		p.Mic.App, p.Mic.AppID, p.Mic.Secret = app.Name, app.AppID, app.Secrets[0].Value
		p.Mic.SecretFile = filepath.Join(run, "mic-client-secret")
		skip.micObjectID = app.ObjectID
	}
	if app := findApp(in.World, DoctorApp); app != nil && len(app.Secrets) > 0 {
		p.Doctor = Doctor{AppID: app.AppID, Secret: app.Secrets[0].Value, SecretFile: filepath.Join(run, "doctor-client-secret")}
	}
	if in.Demo != nil {
		d, err := makeDemo(in.World, *in.Demo, p.Nodes)
		if err != nil {
			return nil, err
		}
		skip.identity, skip.vault = findIdentity(in.World, d.IdentityID), d.Vault
		p.Demo = d
		p.Federation = &Federation{
			IdentityID: d.IdentityID,
			Subject:    "system:serviceaccount:" + AgentNamespace + ":" + AgentServiceAccount,
			Audience:   tokens.FederatedAudience,
		}
	}
	if p.World, err = skipSteps(p.World, skip); err != nil {
		return nil, err
	}
	return p, nil
}

// instanceNode is node index of the scale set, with its pods in cidr and
// its agent on ip.
func instanceNode(vmss *cloud.Machine, i int, cidr netip.Prefix, ip netip.Addr, run string) Node {
	name := fmt.Sprintf("%s%06d", vmss.Name, i)
	return Node{
		Name: name, Instance: fmt.Sprintf("%s_%d", vmss.Name, i),
		ProviderID: fmt.Sprintf("azure://%s/virtualMachines/%d", vmss.ID, i),
		PodCIDR:    cidr, InternalIP: ip,
		AgentAddr: netip.AddrPortFrom(ip, AgentPort).String(),
		ProbeAddr: netip.AddrPortFrom(ip, AgentProbePort).String(),
		Metrics:   netip.AddrPortFrom(ip, AgentMetricsPort).String(),
		AgentLog:  filepath.Join(run, "nmi-"+name+".log"),
	}
}

func findIdentity(st cloud.State, id string) *cloud.Identity {
	for _, i := range st.Identities {
		if strings.EqualFold(i.ID, id) {
			return i
		}
	}
	return nil
}

func pickScaleSet(st cloud.State, name string) (*cloud.Machine, error) {
	var names []string
	for _, m := range st.Machines {
		if !m.ScaleSet {
			continue
		}
		if name == "" || strings.EqualFold(m.Name, name) {
			return m, nil
		}
		names = append(names, m.Name)
	}
	if name == "" {
		return nil, errors.New("the world has no scale set (VMSS) for the fake nodes; add one under resourceGroups[].scaleSets")
	}
	sort.Strings(names)
	return nil, fmt.Errorf("--scale-set %q is not in the world; it has %s", name, list(names))
}

func findApp(st cloud.State, name string) *cloud.Application {
	for _, a := range st.Applications {
		if name != "" && strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// RecordFile is the run record in state folder dir.
func RecordFile(dir string) string { return filepath.Join(dir, "up.json") }

// WebhookLog is the workload-identity webhook's log file.
func (p *Plan) WebhookLog() string { return filepath.Join(p.RunDir, "wi-webhook.log") }

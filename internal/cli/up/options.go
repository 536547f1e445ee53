package up

import (
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/logging"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// Options are the flags of `podid up`.
type Options struct {
	// StateDir holds the kubeconfig, the run record, the lock and logs.
	StateDir string
	// World is a world file; empty uses the built-in world.
	World string
	// Nodes is how many fake nodes (VMSS instances) to run.
	Nodes int
	// RealNodes is how many real nodes (containerd and a kubelet) to run
	// beside the fake ones.
	RealNodes int
	// APIServerPort and CloudPort are loopback ports; 0 picks free ones.
	APIServerPort, CloudPort int
	// ScaleSet names the world's VMSS the nodes stand for; empty: the first.
	ScaleSet string
	// MicApp names the world application mic signs in as.
	MicApp string
	// DemoIdentity, DemoVault and DemoSecret pick the demo's world objects.
	DemoIdentity, DemoVault, DemoSecret string
	// TokenMode is mic's and every agent's --token-mode.
	TokenMode string
	// SkipSteps are seed 004 steps whose grants the world loses.
	SkipSteps []string
	// SignIn are the Azure AD options of az aks create:
	// --aad-admin-group-object-ids, --disable-local-accounts,
	// --enable-azure-rbac.
	SignIn plan.SignInInput
	// NoDemo skips the demo objects.
	NoDemo bool
	// WithoutPodid runs no mic, agent or webhook; the user installs podid
	// onto the real node with its chart.
	WithoutPodid bool
	// NodeRegistries are extra HOST=URL registries the real nodes'
	// containerd pulls from (node.ParseRegistry).
	NodeRegistries []string
	// KubeletServicePrincipal names a world application (name or app ID)
	// the real nodes' kubelets pull as instead of the kubelet identity.
	KubeletServicePrincipal string
	// Detach returns once ready and leaves everything running.
	Detach bool
	// DryRun prints the plan and starts nothing.
	DryRun bool
	// Timeout bounds the whole start, binary build included.
	Timeout time.Duration
	// Log is the format and verbosity of podid up's own log and of every
	// log it writes in the run folder: mic's, each agent's and the cloud's.
	Log logging.Options
	// supervise marks the background process --detach starts.
	supervise bool
}

// LogFormat is the default --log-format of podid up: the text it always
// wrote, now also that of mic, the agents and the cloud it runs.
const LogFormat = logging.FormatText

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		StateDir:     runstate.DefaultDir(),
		Nodes:        2,
		MicApp:       "podid-mic",
		DemoIdentity: "aks-aad-user-identity",
		DemoVault:    "kv-westus2-aks",
		DemoSecret:   "grafana-admin-username-poc",
		Timeout:      20 * time.Minute,
		TokenMode:    podidv1.TokenModeFederated,
		Log:          *logging.NewOptions(LogFormat),
	}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	AddStateDirFlag(fs, &o.StateDir)
	fs.StringVar(&o.World, "world", o.World, "World file (YAML) seeding the embedded cloud; empty uses the built-in world modelled on seed 004.")
	fs.IntVar(&o.Nodes, "nodes", o.Nodes, "Fake nodes to run, each an instance of the world's VMSS with its own node agent.")
	fs.IntVar(&o.RealNodes, "real-nodes", o.RealNodes, "Real nodes to run beside the fake ones: containerd and a kubelet each, pods in their own network namespaces on a bridge, the node agent redirecting 169.254.169.254 with iptables. Needs root, containerd, runc and the CNI plugins (Debian: containerd runc containernetworking-plugins). The fake nodes are then tainted so workloads land on the real ones.")
	fs.IntVar(&o.APIServerPort, "apiserver-port", o.APIServerPort, "Loopback port of kube-apiserver; 0 picks a free port.")
	fs.IntVar(&o.CloudPort, "cloud-port", o.CloudPort, "Loopback port of the embedded cloud (Azure AD and ARM); 0 picks a free port.")
	fs.StringVar(&o.ScaleSet, "scale-set", o.ScaleSet, "VMSS of the world whose instances the nodes stand for; empty takes the first.")
	fs.StringVar(&o.MicApp, "mic-app", o.MicApp, "World application (service principal with a secret) mic signs in as for node token mode; empty or absent: mic makes no cloud writes.")
	fs.StringVar(&o.DemoIdentity, "demo-identity", o.DemoIdentity, "User-assigned identity of the world the demo pods are bound to.")
	fs.StringVar(&o.DemoVault, "demo-vault", o.DemoVault, "Key Vault of the world the demo reads.")
	fs.StringVar(&o.DemoSecret, "demo-secret", o.DemoSecret, "Secret in --demo-vault the demo reads.")
	fs.StringVar(&o.TokenMode, "token-mode", o.TokenMode, "How the node agents get tokens: federated (exchange the agent's service-account token; no cloud writes) or node (seed 004's way: mic adds the identity to the VMSS, the agent asks the node's IMDS).")
	fs.StringSliceVar(&o.SkipSteps, "skip-step", o.SkipSteps, "Seed 004 step to leave out of the world, to see how podid reports it: "+strings.Join(plan.Steps, ", ")+" (steps 3, 4 and 7); repeatable or comma-separated. The role steps need --token-mode node.")
	fs.StringSliceVar(&o.SignIn.AdminGroupObjectIDs, "aad-admin-group-object-ids", o.SignIn.AdminGroupObjectIDs, "Azure AD group object IDs bound to cluster-admin (ClusterRoleBinding "+plan.AdminBindingName+"), as az aks create; comma-separated or repeatable.")
	fs.BoolVar(&o.SignIn.DisableLocalAccounts, "disable-local-accounts", o.SignIn.DisableLocalAccounts, "Write no client-certificate admin kubeconfig to the state folder and refuse podid get-credentials --admin: operators sign in with Azure AD, as on AKS with local accounts disabled.")
	fs.BoolVar(&o.SignIn.EnableAzureRBAC, "enable-azure-rbac", o.SignIn.EnableAzureRBAC, "Authorize Azure AD users with Azure role assignments (the AKS RBAC roles on managedCluster/<name> of the world) after Kubernetes RBAC, as az aks create --enable-azure-rbac; needs a managed cluster in the world.")
	fs.BoolVar(&o.NoDemo, "no-demo", o.NoDemo, "Apply no demo objects.")
	fs.BoolVar(&o.WithoutPodid, "without-podid", o.WithoutPodid, "Run no mic, node agent or webhook: install podid onto the real node yourself, with helm install podid charts/podid -n kube-system -f <state-dir>/"+plan.ChartValuesFile+" (written by podid up, with podid's image in the nodes' registry). Needs --real-nodes 1.")
	fs.StringSliceVar(&o.NodeRegistries, "node-registry", o.NodeRegistries, "Extra registry the real nodes pull from, as HOST=URL (e.g. registry.example.test=http://127.0.0.1:5001): images named HOST/… are pulled from URL through containerd's hosts.toml, so HOST is never looked up in DNS. Repeatable or comma-separated; needs --real-nodes.")
	fs.StringVar(&o.KubeletServicePrincipal, "kubelet-service-principal", o.KubeletServicePrincipal, "World application (name or app ID) the real nodes' kubelets pull from the registry as, as on a cluster made with az aks create --service-principal: azure.json holds its app ID and its newest secret instead of the kubelet identity. Empty: the kubelet identity (managed identity). Needs --real-nodes.")
	fs.BoolVar(&o.Detach, "detach", o.Detach, "Return once everything is ready and leave it running; stop it with podid down.")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "Print the plan and start nothing.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Longest time the start may take, building the control-plane binaries included.")
	o.Log.AddFlags(fs)
	fs.BoolVar(&o.supervise, "supervise", false, "Run as the background supervisor of --detach.")
	_ = fs.MarkHidden("supervise")
}

// AddStateDirFlag binds --state-dir, the folder of a podid up run, shared by
// up, down, status, token and cloud role/vault-policy.
func AddStateDirFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "state-dir", *dir, "Folder of a podid up run: kubeconfig, up.json (what runs), logs.")
}

// Validate reports bad option values.
func (o *Options) Validate() error {
	var errs []error
	if o.StateDir == "" {
		errs = append(errs, errors.New("--state-dir is required (no home folder to default to)"))
	}
	if o.Nodes < 1 {
		errs = append(errs, fmt.Errorf("--nodes must be at least 1, got %d", o.Nodes))
	}
	if o.RealNodes < 0 {
		errs = append(errs, fmt.Errorf("--real-nodes must not be negative, got %d", o.RealNodes))
	}
	for name, p := range map[string]int{"--apiserver-port": o.APIServerPort, "--cloud-port": o.CloudPort} {
		if p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s %d: want 0 to 65535", name, p))
		}
	}
	if len(o.NodeRegistries) > 0 && o.RealNodes == 0 {
		errs = append(errs, errors.New("--node-registry maps registries for the real nodes; add --real-nodes 1"))
	}
	if o.KubeletServicePrincipal != "" && o.RealNodes == 0 {
		errs = append(errs, errors.New("--kubelet-service-principal sets the real nodes' azure.json; add --real-nodes 1"))
	}
	if _, err := node.ParseRegistries(o.NodeRegistries); err != nil {
		errs = append(errs, fmt.Errorf("--node-registry: %w", err))
	}
	if o.Detach && o.DryRun {
		errs = append(errs, errors.New("--detach and --dry-run do not go together"))
	}
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout must be positive, got %s", o.Timeout))
	}
	if err := o.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// supervisorArgs are the arguments of the background process --detach
// starts: `up --supervise` and every flag of fs the user set, except
// --detach itself. Reading them back from the parsed flag set rather than
// listing them means a flag added later is passed on too.
func supervisorArgs(fs *pflag.FlagSet) []string {
	args := []string{"up", "--supervise"}
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Changed || f.Name == "detach" || f.Name == "supervise" {
			return
		}
		args = append(args, flagArgs(f)...)
	})
	return args
}

// flagArgs are the arguments that set f to its current value.
func flagArgs(f *pflag.Flag) []string {
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return []string{"--" + f.Name + "=" + f.Value.String()}
	}
	vals := sv.GetSlice()
	if f.Value.Type() == "stringArray" { // each use appends one element as is
		args := make([]string, 0, len(vals))
		for _, v := range vals {
			args = append(args, "--"+f.Name+"="+v)
		}
		return args
	}
	// Slice flags split a value as a CSV record; the first use replaces
	// the default.
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(vals)
	w.Flush()
	return []string{"--" + f.Name + "=" + strings.TrimSuffix(b.String(), "\n")}
}

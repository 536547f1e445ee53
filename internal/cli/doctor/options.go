package doctor

import (
	"github.com/podid/podid/internal/cloudassign"

	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	podidv1 "github.com/podid/podid/api/v1"
	cliup "github.com/podid/podid/internal/cli/up"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/plan"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// Options are the flags of `podid doctor`.
type Options struct {
	// Kubeconfig names the cluster; empty: $KUBECONFIG, ~/.kube/config or
	// the default podid up run (see StateDir).
	Kubeconfig string
	// StateDir is a podid up run: its kubeconfig, agent addresses and
	// supervised mic. Empty: ~/.podid when it holds a run record and
	// neither --kubeconfig nor $KUBECONFIG is set.
	StateDir string
	// Pod, Identity and Namespace narrow the scope; at most one is set.
	Pod, Identity, Namespace string
	// Output is table or json.
	Output string
	// Checks are the names of the checks to run; empty runs all.
	Checks []string
	// ClusterWideBindings and TokenMode mirror mic's flags.
	ClusterWideBindings bool
	TokenMode           string
	// Vault is the Key Vault the apps read; empty examines every vault.
	Vault string
	// AgentPort is the node agents' probe port; 0 skips probing.
	AgentPort int
	// Timeout bounds gathering.
	Timeout time.Duration
	// Cloud is how the cloud-side checks sign in: mic's options.
	Cloud cloudassign.CloudOptions
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Output:    OutputTable,
		TokenMode: podidv1.TokenModeFederated,
		AgentPort: plan.AgentProbePort,
		Timeout:   time.Minute,
	}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of the cluster to examine; empty uses $KUBECONFIG or ~/.kube/config, or the podid up run in ~/.podid when neither is set and it has one. With --state-dir, the kubeconfig is checked as a way into that podid up run's cluster: the sign-in checks read the run's settings (local accounts, Azure RBAC, admin groups) even for a kubeconfig that does not name the run (an old admin one).")
	cliup.AddStateDirFlag(fs, &o.StateDir)
	fs.StringVar(&o.Pod, "pod", o.Pod, "Examine one pod, NAMESPACE/NAME, and what serves it.")
	fs.StringVar(&o.Identity, "identity", o.Identity, "Examine one AzureIdentity, NAMESPACE/NAME, its bindings and the pods they select.")
	fs.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "Examine one namespace. Without --pod, --identity or --namespace the whole cluster is examined.")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "table (for a terminal) or json (the report).")
	fs.StringArrayVar(&o.Checks, "check", o.Checks, "Run only this check; repeatable. Known: "+strings.Join(checkNames(doctor.Checks()), ", ")+".")
	fs.BoolVar(&o.ClusterWideBindings, "cluster-wide-bindings", o.ClusterWideBindings, "Bindings select pods of every namespace. Must match mic's --cluster-wide-bindings.")
	fs.StringVar(&o.TokenMode, "token-mode", o.TokenMode, "The cluster's default token mode, federated or node. Must match mic's --token-mode; with a podid up run, the run's mode unless set.")
	fs.IntVar(&o.AgentPort, "agent-port", o.AgentPort, "Port of the node agents' /readyz (nmi --probe-address) on each node's InternalIP, or on the agent addresses of a podid up run; 0 skips probing the agents.")
	fs.StringVar(&o.Vault, "vault", o.Vault, "Name of the Key Vault the apps read: vault-access fails when an identity may not get its secrets. Empty warns only when an identity may read no vault of its subscription.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Longest time reading the cluster and probing the agents may take.")
	// The cloud is read with mic's own sign-in flags; a podid up run
	// fills them from its record.
	fs.StringVar(&o.Cloud.ARMEndpoint, "arm-endpoint", o.Cloud.ARMEndpoint, "Azure Resource Manager endpoint (https://management.azure.com/) for the cloud-side checks; empty skips them, each printing the az command that would answer it.")
	fs.StringVar(&o.Cloud.AuthorityHost, "authority-host", o.Cloud.AuthorityHost, "Azure AD authority host.")
	fs.StringVar(&o.Cloud.TenantID, "azure-tenant-id", o.Cloud.TenantID, "Tenant of the service principal the doctor signs in as (mic's).")
	fs.StringVar(&o.Cloud.ClientID, "azure-client-id", o.Cloud.ClientID, "Client ID of that service principal, or of a managed identity when --azure-client-secret-file is empty.")
	fs.StringVar(&o.Cloud.ClientSecretFile, "azure-client-secret-file", o.Cloud.ClientSecretFile, "File holding the service principal's secret.")
	fs.StringVar(&o.Cloud.CAFile, "cloud-ca-file", o.Cloud.CAFile, "PEM file of extra CAs to trust for Azure AD and ARM.")
}

// Validate reports bad option values.
func (o *Options) Validate() error {
	var errs []error
	var scopes []string
	for _, s := range []struct{ flag, value string }{{"--pod", o.Pod}, {"--identity", o.Identity}, {"--namespace", o.Namespace}} {
		if s.value != "" {
			scopes = append(scopes, s.flag)
		}
	}
	if len(scopes) > 1 {
		errs = append(errs, fmt.Errorf("%s narrow the scope in different ways: give at most one", strings.Join(scopes, " and ")))
	}
	for flag, v := range map[string]string{"--pod": o.Pod, "--identity": o.Identity} {
		if ns, name, ok := strings.Cut(v, "/"); v != "" && (!ok || ns == "" || name == "" || strings.Contains(name, "/")) {
			errs = append(errs, fmt.Errorf("%s %q: want NAMESPACE/NAME", flag, v))
		}
	}
	if strings.Contains(o.Namespace, "/") {
		errs = append(errs, fmt.Errorf("--namespace %q: want a namespace name", o.Namespace))
	}
	if o.Output != OutputTable && o.Output != OutputJSON {
		errs = append(errs, fmt.Errorf("-o %q: want table or json", o.Output))
	}
	if o.TokenMode != podidv1.TokenModeFederated && o.TokenMode != podidv1.TokenModeNode {
		errs = append(errs, fmt.Errorf("--token-mode %q: want %s or %s", o.TokenMode, podidv1.TokenModeFederated, podidv1.TokenModeNode))
	}
	if o.AgentPort < 0 || o.AgentPort > 65535 {
		errs = append(errs, fmt.Errorf("--agent-port %d: want 0 to 65535", o.AgentPort))
	}
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout must be positive, got %s", o.Timeout))
	}
	if _, err := selectChecks(doctor.Checks(), o.Checks); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Scope is the scope the options name.
func (o *Options) Scope() doctor.Scope {
	return doctor.Scope{Pod: o.Pod, Identity: o.Identity, Namespace: o.Namespace}
}

// selectChecks returns the checks named, in all's order; every check
// when names is empty.
func selectChecks(all []doctor.Check, names []string) ([]doctor.Check, error) {
	if len(names) == 0 {
		return all, nil
	}
	known := checkNames(all)
	var unknown []string
	for _, n := range names {
		if !slices.Contains(known, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--check %s: no such check; known: %s", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	var out []doctor.Check
	for _, c := range all {
		if slices.Contains(names, c.Name()) {
			out = append(out, c)
		}
	}
	return out, nil
}

func checkNames(checks []doctor.Check) []string {
	names := make([]string, 0, len(checks))
	for _, c := range checks {
		names = append(names, c.Name())
	}
	sort.Strings(names)
	return names
}

package token

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	cliup "github.com/podid/podid/internal/cli/up"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// Options are the flags of `podid token`.
type Options struct {
	// StateDir finds a running podid up (its kubeconfig and agents).
	StateDir string
	// Kubeconfig selects another cluster; agents are then reached on
	// their node's InternalIP at AgentPort.
	Kubeconfig string
	AgentPort  int
	// Pod is NAMESPACE/NAME.
	Pod string
	// Resource is the token audience asked for.
	Resource string
	// ClientID picks one of the pod's identities.
	ClientID string
	// Output is claims, json or raw.
	Output string
	// Timeout bounds the wait for the pod's assignment and the token.
	Timeout time.Duration
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{StateDir: runstate.DefaultDir(), AgentPort: plan.AgentPort, Output: OutputClaims, Timeout: time.Minute}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	cliup.AddStateDirFlag(fs, &o.StateDir)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of another cluster than the podid up run in --state-dir; its node agents are reached on each node's InternalIP at --agent-port.")
	fs.IntVar(&o.AgentPort, "agent-port", o.AgentPort, "Port of the node agents with --kubeconfig.")
	fs.StringVar(&o.Pod, "pod", o.Pod, "The pod to speak as, NAMESPACE/NAME (required).")
	fs.StringVar(&o.Resource, "resource", o.Resource, "Resource (audience) of the token, e.g. https://vault.azure.net (required).")
	fs.StringVar(&o.ClientID, "client-id", o.ClientID, "Client ID of one of the pod's identities; empty lets the agent pick, as a pod asking without one would.")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "claims (decoded JWT claims), json (the IMDS response, token redacted) or raw (the token alone).")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Longest wait for the pod's identity to be assigned and the token to arrive; the agent's 503 answers are retried until then.")
}

// Validate reports bad option values.
func (o *Options) Validate() error {
	var errs []error
	if ns, name, ok := strings.Cut(o.Pod, "/"); !ok || ns == "" || name == "" {
		errs = append(errs, fmt.Errorf("--pod %q: want NAMESPACE/NAME", o.Pod))
	}
	if u, err := url.Parse(o.Resource); o.Resource == "" || err != nil {
		errs = append(errs, fmt.Errorf("--resource %q: want a resource URI such as https://vault.azure.net", o.Resource))
	} else if u.Scheme == "" {
		errs = append(errs, fmt.Errorf("--resource %q: want an absolute URI such as https://vault.azure.net", o.Resource))
	}
	switch o.Output {
	case OutputClaims, OutputJSON, OutputRaw:
	default:
		errs = append(errs, fmt.Errorf("-o %q: want claims, json or raw", o.Output))
	}
	if o.Kubeconfig == "" && o.StateDir == "" {
		errs = append(errs, errors.New("--state-dir or --kubeconfig is required"))
	}
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout must be positive, got %s", o.Timeout))
	}
	return errors.Join(errs...)
}

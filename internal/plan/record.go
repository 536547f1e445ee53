package plan

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Record is what a running `podid up` writes to its state folder.
type Record struct {
	// Supervisor is the `podid up` process that owns every other one.
	Supervisor Process   `json:"supervisor"`
	StartedAt  time.Time `json:"startedAt"`
	// Ready is set once everything answers; StartSeconds is how long it took.
	Ready        bool    `json:"ready"`
	StartSeconds float64 `json:"startSeconds,omitempty"`
	StateDir     string  `json:"stateDir"`
	Kubeconfig   string  `json:"kubeconfig"`
	// TokenMode is mic's and the agents' --token-mode.
	TokenMode string `json:"tokenMode,omitempty"`
	// Skipped are the seed 004 steps whose grants the world lacks; Fixes
	// the commands that grant them.
	Skipped   []string `json:"skipped,omitempty"`
	Fixes     []string `json:"fixes,omitempty"`
	APIServer string   `json:"apiServer"`
	// APIServerCA is the CA file of the apiserver's serving certificate.
	APIServerCA string `json:"apiServerCA,omitempty"`
	Issuer      string `json:"issuer"`
	CloudURL    string `json:"cloudURL"`
	CloudCA     string `json:"cloudCA"`
	// TenantID, MicClientID and MicSecretFile are mic's sign-in to the
	// cloud, which podid doctor reuses to read it; empty when mic has none.
	TenantID      string `json:"tenantID,omitempty"`
	MicClientID   string `json:"micClientID,omitempty"`
	MicSecretFile string `json:"micSecretFile,omitempty"`
	// DoctorClientID and DoctorSecretFile are the read-only sign-in podid
	// doctor prefers to mic's, when the world has one.
	DoctorClientID   string `json:"doctorClientID,omitempty"`
	DoctorSecretFile string `json:"doctorSecretFile,omitempty"`
	// Processes are the children, in start order.
	Processes []Process `json:"processes"`
	// Agents maps node name to its agent's token address.
	Agents map[string]string `json:"agents"`
	// Vaults maps vault name to URL.
	Vaults map[string]string `json:"vaults"`
	// ImageRegistry is the loopback registry (HOST:PORT) the real nodes
	// pull podid.local/* from; podid images push --registry adds to it.
	ImageRegistry string `json:"imageRegistry,omitempty"`
	// ACR is the registry the real nodes pull from; nil without one.
	ACR  *ACRRecord `json:"acr,omitempty"`
	Demo *Demo      `json:"demo,omitempty"`
	// SignIn is how people sign in with Azure AD; podid get-credentials
	// reads it. Nil in records of older runs.
	SignIn *SignIn `json:"signIn,omitempty"`
	// Chart is set when podid up runs no podid component: the user installs
	// the chart with the values it wrote.
	Chart *Chart `json:"chart,omitempty"`
}

// Process is one process of a run. StartTicks (the kernel's start time of
// the process) tells it apart from a later process that reuses the PID.
type Process struct {
	Name       string `json:"name"`
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"startTicks,omitempty"`
	Address    string `json:"address,omitempty"`
	Log        string `json:"log,omitempty"`
}

// All returns the supervisor and its children.
func (r *Record) All() []Process {
	return append([]Process{r.Supervisor}, r.Processes...)
}

// RenderStatus prints a table of the run's processes; alive says whether
// one still runs.
func RenderStatus(w io.Writer, r *Record, alive func(Process) bool) error {
	var b strings.Builder
	state := "starting"
	if r.Ready {
		state = fmt.Sprintf("up (ready in %.1fs)", r.StartSeconds)
	}
	fmt.Fprintf(&b, "podid %s since %s, state folder %s\n", state, r.StartedAt.Format(time.RFC3339), r.StateDir)
	if r.TokenMode != "" {
		fmt.Fprintf(&b, "token mode %s", r.TokenMode)
		if len(r.Skipped) > 0 {
			fmt.Fprintf(&b, ", without seed 004 step(s) %s", strings.Join(r.Skipped, ", "))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tSTATE\tPID\tADDRESS\tLOG")
	for _, p := range r.All() {
		st := "stopped"
		if alive(p) {
			st = "running"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, st, strconv.Itoa(p.PID), dash(p.Address), dash(p.Log))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if d := r.Demo; d != nil {
		fmt.Fprintf(&b, "\ndemo: namespace %s, identity %s (client %s), vault %s secret %s\n", d.Namespace, d.IdentityName, d.ClientID, d.Vault, d.Secret)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RenderNext prints the commands to try next.
func RenderNext(w io.Writer, r *Record, detached bool) error {
	var b strings.Builder
	if r.SignIn == nil || r.SignIn.LocalAccounts {
		fmt.Fprintf(&b, "\nnext:\n  export KUBECONFIG=%s\n  kubectl get nodes,pods -A -o wide\n  kubectl get azureassignedidentities -A\n", r.Kubeconfig)
	} else {
		b.WriteString("\nnext (local accounts are disabled: sign in with Azure AD):\n")
	}
	renderSignInNext(&b, r)
	if c := r.Chart; c != nil {
		fmt.Fprintf(&b, "  # podid runs nothing of its own: install it onto the real node\n  helm install %s charts/podid -n %s -f %s\n  kubectl -n %s rollout status daemonset/%s-nmi\n",
			c.Release, c.Namespace, c.ValuesFile, c.Namespace, c.Release)
	}
	if d := r.Demo; d != nil {
		bound := d.BoundPods()
		if len(bound) > 0 {
			fmt.Fprintf(&b, "  podid token --state-dir %s --pod %s --resource %s\n", r.StateDir, bound[0], d.VaultResource)
		}
		fmt.Fprintf(&b, "  podid token --state-dir %s --pod %s/%s --resource %s   # no label: refused\n", r.StateDir, d.Namespace, DemoUnboundPod, d.VaultResource)
	}
	renderACRNext(&b, r)
	if len(r.Fixes) > 0 {
		b.WriteString("  # seed 004 steps skipped; each fix, once you have seen its failure:\n")
		for _, f := range r.Fixes {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	fmt.Fprintf(&b, "  podid status --state-dir %s\n", r.StateDir)
	if detached {
		fmt.Fprintf(&b, "  podid down --state-dir %s\n", r.StateDir)
	} else {
		b.WriteString("  Ctrl-C stops everything\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/podid/podid/internal/cloudassign"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// target is what to examine and how to gather it.
type target struct {
	// kubeconfig is the file to load; empty uses the default rules.
	kubeconfig string
	gather     doctor.GatherOptions
	// cloud is how to read the cloud; disabled without an ARM endpoint.
	cloud cloudassign.CloudOptions
	// signIn is how to examine --kubeconfig's sign-in; nil without it.
	signIn *doctor.SignInOptions
}

// environment is what resolve reads besides the options, injected so
// tests need no home folder.
type environment struct {
	getenv func(string) string
	// defaultDir is podid up's default state folder (~/.podid).
	defaultDir string
	// alive reports whether a recorded process still runs.
	alive func(plan.Process) bool
}

func osEnvironment() environment {
	return environment{getenv: os.Getenv, defaultDir: runstate.DefaultDir(), alive: runstate.Alive}
}

// resolve decides the cluster and the gather options: a podid up run
// (--state-dir, or ~/.podid when nothing else names a cluster) gives its
// kubeconfig, its agents' addresses and its supervised processes.
// tokenModeSet says --token-mode was given, so the run's mode does not
// replace it.
func resolve(o *Options, tokenModeSet bool, env environment) (target, error) {
	t := target{kubeconfig: o.Kubeconfig, cloud: o.Cloud, gather: doctor.GatherOptions{
		Scope:     o.Scope(),
		Settings:  doctor.Settings{ClusterWideBindings: o.ClusterWideBindings, TokenMode: o.TokenMode, Vault: o.Vault},
		AgentPort: o.AgentPort,
	}}
	if o.Kubeconfig != "" {
		signInEnv := env
		if o.StateDir != "" {
			// The run is named: its settings judge this kubeconfig, which
			// reaches the same cluster.
			signInEnv.defaultDir = o.StateDir
		}
		t.signIn = signInTarget(o.Kubeconfig, o.Namespace, signInEnv)
		if o.StateDir != "" {
			return t, nil
		}
	}
	dir := o.StateDir
	if dir == "" && o.Kubeconfig == "" && env.getenv("KUBECONFIG") == "" && env.defaultDir != "" {
		if _, err := os.Stat(plan.RecordFile(env.defaultDir)); err == nil {
			dir = env.defaultDir
		}
	}
	if dir == "" {
		return t, nil
	}
	rec, err := runstate.Read(plan.RecordFile(dir))
	if errors.Is(err, runstate.ErrNoRecord) || errors.Is(err, fs.ErrNotExist) {
		return target{}, fmt.Errorf("no podid up run in %s: start one with podid up, or name a cluster with --kubeconfig", dir)
	}
	if err != nil {
		return target{}, err
	}
	if !env.alive(rec.Supervisor) {
		return target{}, fmt.Errorf("the podid up run in %s is not running (its supervisor PID %d is gone): start it with podid up, or name a cluster with --kubeconfig", dir, rec.Supervisor.PID)
	}
	t.kubeconfig = rec.Kubeconfig
	if !t.cloud.Enabled() && (rec.DoctorClientID != "" || rec.MicClientID != "") {
		// The doctor reads the embedded cloud with the run's read-only
		// principal (as an operator with Reader would), else as mic.
		t.cloud.ARMEndpoint, t.cloud.AuthorityHost, t.cloud.CAFile = rec.CloudURL+"/", rec.CloudURL+"/", rec.CloudCA
		t.cloud.TenantID, t.cloud.ClientID, t.cloud.ClientSecretFile = rec.TenantID, rec.DoctorClientID, rec.DoctorSecretFile
		if rec.DoctorClientID == "" {
			t.cloud.ClientID, t.cloud.ClientSecretFile = rec.MicClientID, rec.MicSecretFile
		}
	}
	if !tokenModeSet && rec.TokenMode != "" {
		t.gather.Settings.TokenMode = rec.TokenMode
	}
	t.gather.Supervised = supervised(dir, rec, env.alive)
	if o.AgentPort != 0 {
		t.gather.AgentAddress = probeAddresses(rec.Agents, o.AgentPort)
	}
	return t, nil
}

// supervised is what the run record says podid up runs itself: mic and
// one agent per node ("nmi NODE").
func supervised(dir string, rec *plan.Record, alive func(plan.Process) bool) *doctor.Supervised {
	s := &doctor.Supervised{StateDir: dir, Agents: map[string]doctor.Process{}}
	for _, p := range rec.Processes {
		dp := doctor.Process{Name: p.Name, PID: p.PID, Alive: alive(p), Log: p.Log}
		switch node, isAgent := strings.CutPrefix(p.Name, "nmi "); {
		case p.Name == "mic":
			s.Controller = &dp
		case isAgent:
			s.Agents[node] = dp
		case strings.HasPrefix(p.Name, "kubelet "):
			if s.Kubelets == nil {
				s.Kubelets = map[string]doctor.Process{}
			}
			s.Kubelets[strings.TrimPrefix(p.Name, "kubelet ")] = dp
		}
	}
	return s
}

// probeAddresses maps a node to its agent's probe address: the host of
// the agent address podid up recorded (where it serves tokens) at the
// probe port. A node the run does not know gets "", and is not probed.
func probeAddresses(agents map[string]string, port int) func(node string) string {
	return func(node string) string {
		host, _, err := net.SplitHostPort(agents[node])
		if err != nil {
			return ""
		}
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
}

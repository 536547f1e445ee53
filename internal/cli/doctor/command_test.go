package doctor

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// execute runs `doctor args...` and returns stdout and the error.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestFlagValidation(t *testing.T) {
	cases := map[string]struct {
		args    []string
		wantErr string
	}{
		"two scopes are refused": {
			args:    []string{"--pod", "a/p", "-n", "a"},
			wantErr: "--pod and --namespace narrow the scope in different ways",
		},
		"all three scopes are refused together": {
			args:    []string{"--pod", "a/p", "--identity", "a/i", "--namespace", "a"},
			wantErr: "--pod and --identity and --namespace",
		},
		"a pod without its namespace is refused": {
			args:    []string{"--pod", "p"},
			wantErr: `--pod "p": want NAMESPACE/NAME`,
		},
		"an identity with an empty name is refused": {
			args:    []string{"--identity", "a/"},
			wantErr: `--identity "a/": want NAMESPACE/NAME`,
		},
		"an unknown output format is refused": {
			args:    []string{"-o", "yaml"},
			wantErr: `-o "yaml": want table or json`,
		},
		"an unknown token mode is refused": {
			args:    []string{"--token-mode", "magic"},
			wantErr: `--token-mode "magic": want federated or node`,
		},
		"a port out of range is refused": {
			args:    []string{"--agent-port", "70000"},
			wantErr: "--agent-port 70000: want 0 to 65535",
		},
		"an unknown check is refused, listing the known ones": {
			args:    []string{"--check", "node-agent", "--check", "no-such-check"},
			wantErr: "--check no-such-check: no such check; known: " + strings.Join(checkNames(doctor.Checks()), ", "),
		},
		"a state folder without a run is refused before any cluster is asked": {
			args:    []string{"--state-dir", "/nonexistent/podid"},
			wantErr: "no podid up run in /nonexistent/podid",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := execute(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidOptionsPass(t *testing.T) {
	for name, o := range map[string]func(*Options){
		"the defaults":                 func(*Options) {},
		"one pod in json":              func(o *Options) { o.Pod, o.Output = "a/p", OutputJSON },
		"one namespace without probes": func(o *Options) { o.Namespace, o.AgentPort = "a", 0 },
		"known checks in node mode":    func(o *Options) { o.Checks, o.TokenMode = []string{"gather", "node-agent"}, "node" },
	} {
		t.Run(name, func(t *testing.T) {
			opts := NewOptions()
			o(opts)
			if err := opts.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSelectChecks(t *testing.T) {
	all := doctor.Checks()
	cases := map[string]struct {
		names []string
		want  []string
	}{
		"no names run every check": {
			want: checkNames(all),
		},
		"named checks run alone, in the registry's order": {
			names: []string{"node-agent", "gather"},
			want:  []string{"gather", "node-agent"},
		},
		"a name given twice runs once": {
			names: []string{"controller", "controller"},
			want:  []string{"controller"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := selectChecks(all, tc.names)
			if err != nil {
				t.Fatal(err)
			}
			if g := checkNames(got); strings.Join(g, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("checks %v, want %v", g, tc.want)
			}
		})
	}
}

func TestOnlySelectedChecksReport(t *testing.T) {
	checks, err := selectChecks(doctor.Checks(), []string{"crds-installed"})
	if err != nil {
		t.Fatal(err)
	}
	r := doctor.Run(&doctor.Facts{}, checks)
	for _, f := range r.Findings {
		if f.Check != "crds-installed" {
			t.Fatalf("finding of unselected check %s: %+v", f.Check, f)
		}
	}
	if len(r.Findings) == 0 {
		t.Fatal("the selected check reported nothing")
	}
}

func TestFailure(t *testing.T) {
	cases := map[string]struct {
		findings []doctor.Finding
		wantErr  string
	}{
		"passes and warnings are no failure": {
			findings: []doctor.Finding{{Check: "gather", Status: doctor.Warn}, {Check: "controller", Status: doctor.Pass}},
		},
		"one failed check is named": {
			findings: []doctor.Finding{{Check: "node-agent", Status: doctor.Fail}, {Check: "node-agent", Status: doctor.Fail}},
			wantErr:  "1 check failed: node-agent",
		},
		"several failed checks are counted once each": {
			findings: []doctor.Finding{{Check: "node-agent", Status: doctor.Fail}, {Check: "controller", Status: doctor.Fail}, {Check: "node-agent", Status: doctor.Fail}},
			wantErr:  "2 checks failed: controller, node-agent",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := report(doctor.Report{Scope: "cluster", Findings: tc.findings}, OutputTable, &out)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(out.String(), "podid doctor: cluster:") {
				t.Fatalf("report not printed:\n%s", out.String())
			}
		})
	}
}

// writeRecord stores a podid up record in a new state folder.
func writeRecord(t *testing.T, rec *plan.Record) string {
	t.Helper()
	dir := t.TempDir()
	rec.StateDir, rec.Kubeconfig = dir, filepath.Join(dir, "kubeconfig")
	if err := runstate.Write(plan.RecordFile(dir), rec); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestResolve(t *testing.T) {
	rec := &plan.Record{
		Supervisor: plan.Process{Name: "podid up", PID: 1},
		TokenMode:  "node",
		Agents:     map[string]string{"node-0": "127.32.0.1:2579", "node-1": "127.32.0.2:2579"},
		Processes: []plan.Process{
			{Name: "kube-apiserver", PID: 10},
			{Name: "mic", PID: 11, Log: "/run/mic.log"},
			{Name: "nmi node-0", PID: 12, Log: "/run/nmi-node-0.log"},
			{Name: "nmi node-1", PID: 13},
		},
	}
	dir := writeRecord(t, rec)
	alive := func(p plan.Process) bool { return p.PID != 13 }
	noEnv := func(string) string { return "" }

	t.Run("a state folder gives the run's kubeconfig, agents and processes", func(t *testing.T) {
		o := NewOptions()
		o.StateDir = dir
		got, err := resolve(o, false, environment{getenv: noEnv, alive: alive})
		if err != nil {
			t.Fatal(err)
		}
		if got.kubeconfig != filepath.Join(dir, "kubeconfig") {
			t.Errorf("kubeconfig %q", got.kubeconfig)
		}
		if got.gather.Settings.TokenMode != "node" {
			t.Errorf("token mode %q, want the run's node", got.gather.Settings.TokenMode)
		}
		if a := got.gather.AgentAddress("node-1"); a != "127.32.0.2:8085" {
			t.Errorf("probe address of node-1 %q, want the recorded host at the probe port", a)
		}
		if a := got.gather.AgentAddress("elsewhere"); a != "" {
			t.Errorf("probe address of an unknown node %q, want none", a)
		}
		s := got.gather.Supervised
		if s == nil || s.Controller == nil || s.Controller.PID != 11 || !s.Controller.Alive {
			t.Fatalf("supervised controller %+v", s)
		}
		if a := s.Agents["node-1"]; a.PID != 13 || a.Alive {
			t.Errorf("agent of node-1 %+v, want PID 13 not alive", a)
		}
	})

	t.Run("a token mode given on the command line wins over the run's", func(t *testing.T) {
		o := NewOptions()
		o.StateDir = dir
		got, err := resolve(o, true, environment{getenv: noEnv, alive: alive})
		if err != nil {
			t.Fatal(err)
		}
		if got.gather.Settings.TokenMode != "federated" {
			t.Errorf("token mode %q", got.gather.Settings.TokenMode)
		}
	})

	t.Run("agent port 0 probes no agent", func(t *testing.T) {
		o := NewOptions()
		o.StateDir, o.AgentPort = dir, 0
		got, err := resolve(o, false, environment{getenv: noEnv, alive: alive})
		if err != nil {
			t.Fatal(err)
		}
		if got.gather.AgentAddress != nil || got.gather.AgentPort != 0 {
			t.Error("agents would be probed")
		}
	})

	t.Run("without a cluster named the default run is used", func(t *testing.T) {
		got, err := resolve(NewOptions(), false, environment{getenv: noEnv, defaultDir: dir, alive: alive})
		if err != nil {
			t.Fatal(err)
		}
		if got.gather.Supervised == nil || got.gather.Supervised.StateDir != dir {
			t.Fatalf("default run not used: %+v", got.gather.Supervised)
		}
	})

	t.Run("$KUBECONFIG wins over the default run", func(t *testing.T) {
		env := environment{getenv: func(string) string { return "/k" }, defaultDir: dir, alive: alive}
		got, err := resolve(NewOptions(), false, env)
		if err != nil {
			t.Fatal(err)
		}
		if got.gather.Supervised != nil || got.kubeconfig != "" {
			t.Fatalf("default run used despite $KUBECONFIG: %+v", got)
		}
	})

	t.Run("a default folder without a record is not a run", func(t *testing.T) {
		got, err := resolve(NewOptions(), false, environment{getenv: noEnv, defaultDir: t.TempDir(), alive: alive})
		if err != nil {
			t.Fatal(err)
		}
		if got.gather.Supervised != nil {
			t.Fatal("an empty folder was taken for a run")
		}
	})

	t.Run("a kubeconfig with a state folder is judged by that run's sign-in settings", func(t *testing.T) {
		run := &plan.Record{Supervisor: plan.Process{PID: 1}, APIServer: "https://127.0.0.1:6443",
			SignIn: &plan.SignIn{Cluster: plan.Cluster{Name: "aks-poc", ResourceGroup: "rg"}, LocalAccounts: false}}
		runDir := writeRecord(t, run)
		kc := filepath.Join(t.TempDir(), "old-admin.kubeconfig")
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443/"}
		cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("cert"), ClientKeyData: []byte("key")}
		cfg.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
		cfg.CurrentContext = "x"
		if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
			t.Fatal(err)
		}
		o := NewOptions()
		o.StateDir, o.Kubeconfig = runDir, kc
		got, err := resolve(o, false, environment{getenv: noEnv, alive: alive})
		if err != nil {
			t.Fatal(err)
		}
		if got.kubeconfig != kc || got.signIn == nil || got.signIn.Run == nil || got.signIn.Run.StateDir != runDir || got.signIn.Run.LocalAccounts {
			t.Fatalf("kubeconfig %q, sign-in %+v: want the kubeconfig examined against the run in %s", got.kubeconfig, got.signIn, runDir)
		}
	})

	t.Run("a run whose supervisor is gone is refused", func(t *testing.T) {
		o := NewOptions()
		o.StateDir = dir
		_, err := resolve(o, false, environment{getenv: noEnv, alive: func(plan.Process) bool { return false }})
		if err == nil || !strings.Contains(err.Error(), "is not running") {
			t.Fatalf("error %v", err)
		}
	})
}

package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/logging"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func builtin(t *testing.T) cloud.State {
	t.Helper()
	w, err := world.Parse("world.yaml", DefaultWorld)
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func input(t *testing.T) Input {
	return Input{
		StateDir: "/home/user/.podid", Nodes: 2, WorldSource: BuiltinWorld, World: builtin(t),
		MicApp: "podid-mic",
		Demo:   &DemoInput{Identity: "aks-aad-user-identity", Vault: "kv-westus2-aks", Secret: "grafana-admin-username-poc"},
	}
}

func TestPlanMatchesGolden(t *testing.T) {
	p, err := MakePlan(input(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := p.Render(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), p.Mic.Secret) {
		t.Fatal("the plan prints mic's client secret")
	}
	golden := filepath.Join("testdata", "plan.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if out.String() != string(want) {
		t.Fatalf("plan differs from %s (run go test -update if intended):\n%s", golden, out.String())
	}
}

func TestPlanMapsEveryNodeToItsOwnInstanceAndAddress(t *testing.T) {
	in := input(t)
	in.Nodes = 3
	p, err := MakePlan(in)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, n := range p.Nodes {
		for _, k := range []string{n.Name, n.Instance, n.ProviderID, n.AgentAddr} {
			if seen[k] {
				t.Fatalf("node %d repeats %q", i, k)
			}
			seen[k] = true
		}
		if !strings.HasSuffix(n.ProviderID, "/virtualMachineScaleSets/aks-system-12583646-vmss/virtualMachines/"+string(rune('0'+i))) {
			t.Fatalf("node %d providerID %s", i, n.ProviderID)
		}
	}
	if got := len(p.Demo.BoundPods()); got != 3 {
		t.Fatalf("%d bound demo pods, want one per node", got)
	}
}

func TestPlanRefuses(t *testing.T) {
	cases := map[string]struct {
		change func(*Input)
		want   string
	}{
		"more nodes than VMSS instances": {func(in *Input) { in.Nodes = 9 }, "has 8 instances"},
		"no nodes":                       {func(in *Input) { in.Nodes = 0 }, "--nodes must be at least 1"},
		"an unknown demo identity":       {func(in *Input) { in.Demo.Identity = "nope" }, `--demo-identity "nope" is not a user-assigned identity of the world; it has aks-aad-user-identity, aks-system-agentpool`},
		"an unknown vault":               {func(in *Input) { in.Demo.Vault = "kv" }, `--demo-vault "kv" is not in the world; it has kv-westus2-aks`},
		"an unknown secret":              {func(in *Input) { in.Demo.Secret = "s" }, `--demo-secret "s" is not in vault kv-westus2-aks; it holds grafana-admin-username-poc`},
		"an unknown scale set":           {func(in *Input) { in.ScaleSet = "x" }, `--scale-set "x" is not in the world; it has aks-system-12583646-vmss`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := input(t)
			tc.change(&in)
			_, err := MakePlan(in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPlanWithoutMicAppLeavesNodeModeOff(t *testing.T) {
	in := input(t)
	in.MicApp = ""
	p, err := MakePlan(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.MicArgs(p.Placeholders()) {
		if strings.HasPrefix(a, "--arm-endpoint") {
			t.Fatalf("mic gets %s without a service principal", a)
		}
	}
}

func TestChildrenLogInTheRunsFormat(t *testing.T) {
	cases := map[string]struct {
		log  logging.Options
		want string
	}{
		"no log options mean text at verbosity 0": {want: "--log-format=text --v=0"},
		"json at verbosity 1 reaches every child": {log: logging.Options{Format: "json", Verbosity: 1}, want: "--log-format=json --v=1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := input(t)
			in.Log = c.log
			p, err := MakePlan(in)
			if err != nil {
				t.Fatal(err)
			}
			rt := p.Placeholders()
			for _, args := range [][]string{p.MicArgs(rt), p.AgentArgs(p.Nodes[0], rt), p.AgentArgs(p.Nodes[1], rt)} {
				if got := strings.Join(args, " "); !strings.HasSuffix(got, " "+c.want) {
					t.Errorf("%s args end %q, want %q", args[0], got[len(got)-30:], c.want)
				}
			}
		})
	}
}

package plan

import (
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud/authz"
)

func TestSkipSteps(t *testing.T) {
	// roles are mic's: the seed 004 steps grant and skip only those.
	roles := func(p *Plan) []string {
		var out []string
		for _, a := range p.World.RoleAssignments {
			if !strings.EqualFold(a.PrincipalID, "b9276f33-e80c-4f09-9cdf-24c28c0feea4") {
				continue
			}
			for _, d := range authz.Builtins() {
				if strings.EqualFold(d.ID, a.RoleDefinitionID) {
					out = append(out, d.RoleName)
				}
			}
		}
		return out
	}
	cases := map[string]struct {
		mode      string
		steps     []string
		wantRoles []string // left to mic
		policies  int      // left on the demo vault
		wantErr   string
		failing   bool // assignments stay Created
	}{
		"nothing skipped keeps seed 004's grants":  {mode: "node", wantRoles: []string{"Virtual Machine Contributor", "Reader", "Managed Identity Operator"}, policies: 1},
		"step 3 drops Managed Identity Operator":   {mode: "node", steps: []string{StepManagedIdentityOperator}, wantRoles: []string{"Virtual Machine Contributor", "Reader"}, policies: 1, failing: true},
		"step 7 drops Reader and VM Contributor":   {mode: "node", steps: []string{StepVMContributor}, wantRoles: []string{"Managed Identity Operator"}, policies: 1, failing: true},
		"step 4 drops the vault access policy":     {mode: "federated", steps: []string{StepVaultAccess}, wantRoles: []string{"Virtual Machine Contributor", "Reader", "Managed Identity Operator"}, policies: 0},
		"all three at once":                        {mode: "node", steps: Steps, policies: 0, failing: true},
		"a role step in federated mode is refused": {mode: "federated", steps: []string{StepVMContributor}, wantErr: "only matters with --token-mode node"},
		"an unknown step lists the known ones":     {mode: "node", steps: []string{"step-5"}, wantErr: "want managed-identity-operator, vault-access, vm-contributor"},
		"a step skipped twice has nothing left":    {mode: "node", steps: []string{StepVaultAccess, StepVaultAccess}, wantErr: "grants nothing"},
		"an unknown token mode is refused":         {mode: "imds", wantErr: "--token-mode"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := input(t)
			in.TokenMode, in.SkipSteps = c.mode, c.steps
			assignments := len(in.World.RoleAssignments)
			p, err := MakePlan(in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(roles(p), ","); got != strings.Join(c.wantRoles, ",") {
				t.Errorf("roles %s, want %s", got, strings.Join(c.wantRoles, ","))
			}
			for _, v := range p.World.Vaults {
				if len(v.AccessPolicies) != c.policies {
					t.Errorf("vault %s has %d policies, want %d", v.Name, len(v.AccessPolicies), c.policies)
				}
			}
			if p.AssignmentsFail() != c.failing {
				t.Errorf("AssignmentsFail %t, want %t", p.AssignmentsFail(), c.failing)
			}
			if len(in.World.Vaults[0].AccessPolicies) != 1 || len(in.World.RoleAssignments) != assignments {
				t.Error("MakePlan changed the world it was given")
			}
		})
	}
}

func TestNodeModeArgs(t *testing.T) {
	in := input(t)
	in.TokenMode = "node"
	p, err := MakePlan(in)
	if err != nil {
		t.Fatal(err)
	}
	rt := p.Placeholders()
	mic := strings.Join(p.MicArgs(rt), " ")
	for _, want := range []string{"--token-mode=node", "--cloud-resync=10s", "--azure-client-id=", "--arm-endpoint="} {
		if !strings.Contains(mic, want) {
			t.Errorf("mic args lack %s: %s", want, mic)
		}
	}
	if nmi := strings.Join(p.AgentArgs(p.Nodes[0], rt), " "); !strings.Contains(nmi, "--token-mode=node") {
		t.Errorf("nmi args: %s", nmi)
	}
}

func TestSkipFixesGrantBackEachStep(t *testing.T) {
	in := input(t)
	in.TokenMode, in.SkipSteps = "node", Steps
	p, err := MakePlan(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`podid cloud role grant --state-dir /home/user/.podid --principal podid-mic --role "Virtual Machine Contributor" --scope resourceGroup/MC_rg-aks-poc-container-westus2`,
		`podid cloud role grant --state-dir /home/user/.podid --principal podid-mic --role "Managed Identity Operator" --scope identity/aks-aad-user-identity`,
		`podid cloud vault-policy set --state-dir /home/user/.podid --vault kv-westus2-aks --principal aks-aad-user-identity --secrets get,list`,
	}
	if got := p.SkipFixes(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

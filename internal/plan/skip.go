package plan

import (
	"fmt"
	"slices"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/authz"
)

// Seed 004 steps that `podid up --skip-step` leaves out of the world, so a
// user sees how podid reports each omission.
const (
	// StepManagedIdentityOperator is seed 004 step 3: mic's service
	// principal may assign the demo identity (Managed Identity Operator).
	StepManagedIdentityOperator = "managed-identity-operator"
	// StepVaultAccess is seed 004 step 4: the demo identity's access
	// policy on the demo vault.
	StepVaultAccess = "vault-access"
	// StepVMContributor is seed 004 step 7: Reader and Virtual Machine
	// Contributor for mic's service principal on the node resource group.
	StepVMContributor = "vm-contributor"
)

// Steps lists the skippable steps in seed order.
var Steps = []string{StepManagedIdentityOperator, StepVaultAccess, StepVMContributor}

// skipInput is what skipSteps needs to know about the world.
type skipInput struct {
	steps     []string
	tokenMode string
	// micObjectID is the object ID of mic's service principal; empty
	// when mic has none.
	micObjectID string
	// identity is the demo identity; vault the demo vault's name.
	identity *cloud.Identity
	vault    string
}

// skipSteps returns st without the grants of the skipped steps. It never
// changes st; every step must remove something, or the skip is refused.
func skipSteps(st cloud.State, in skipInput) (cloud.State, error) {
	for _, step := range in.steps {
		var removed int
		switch step {
		case StepManagedIdentityOperator, StepVMContributor:
			if in.tokenMode != podidv1.TokenModeNode {
				return st, fmt.Errorf("--skip-step %s only matters with --token-mode node: in federated mode mic changes no VMSS", step)
			}
			if in.micObjectID == "" {
				return st, fmt.Errorf("--skip-step %s: mic has no service principal (see --mic-app)", step)
			}
			roles := []string{"Managed Identity Operator"}
			if step == StepVMContributor {
				roles = []string{"Virtual Machine Contributor", "Reader"}
			}
			st.RoleAssignments, removed = withoutRoles(st.RoleAssignments, in.micObjectID, roles)
		case StepVaultAccess:
			if in.identity == nil {
				return st, fmt.Errorf("--skip-step %s needs the demo (drop --no-demo)", step)
			}
			st.Vaults, removed = withoutPolicy(st.Vaults, in.vault, in.identity.PrincipalID)
		default:
			return st, fmt.Errorf("--skip-step %q: want %s", step, strings.Join(Steps, ", "))
		}
		if removed == 0 {
			return st, fmt.Errorf("--skip-step %s: the world grants nothing this step would remove", step)
		}
	}
	return st, nil
}

// withoutRoles drops the assignments of roles (built-in names) to principal.
func withoutRoles(in []authz.Assignment, principal string, roles []string) ([]authz.Assignment, int) {
	defs := authz.Builtins()
	var ids []string
	for _, r := range roles {
		if d, ok := authz.LookupRole(defs, r); ok {
			ids = append(ids, strings.ToLower(d.ID))
		}
	}
	out := make([]authz.Assignment, 0, len(in))
	for _, a := range in {
		if strings.EqualFold(a.PrincipalID, principal) && slices.Contains(ids, strings.ToLower(a.RoleDefinitionID)) {
			continue
		}
		out = append(out, a)
	}
	return out, len(in) - len(out)
}

// withoutPolicy drops principal's access policies from vault, copying the
// vault it changes.
func withoutPolicy(in []*cloud.Vault, vault, principal string) ([]*cloud.Vault, int) {
	out := make([]*cloud.Vault, 0, len(in))
	removed := 0
	for _, v := range in {
		if !strings.EqualFold(v.Name, vault) {
			out = append(out, v)
			continue
		}
		cp := *v
		cp.AccessPolicies = nil
		for _, p := range v.AccessPolicies {
			if strings.EqualFold(p.ObjectID, principal) {
				removed++
				continue
			}
			cp.AccessPolicies = append(cp.AccessPolicies, p)
		}
		out = append(out, &cp)
	}
	return out, removed
}

// AssignmentsFail reports whether a skipped step keeps mic from putting the
// demo identity on the VMSS: its assignments then stay Created.
func (p *Plan) AssignmentsFail() bool {
	return p.TokenMode == podidv1.TokenModeNode && (slices.Contains(p.Skipped, StepManagedIdentityOperator) || slices.Contains(p.Skipped, StepVMContributor))
}

// SkipFixes are the commands that put back each skipped step's grant, in
// the order podid meets the failures: step 7, step 3, step 4.
func (p *Plan) SkipFixes() []string {
	var out []string
	rg := p.ScaleSetID
	if i := strings.Index(strings.ToLower(rg), "/providers/"); i > 0 {
		rg = rg[strings.LastIndex(rg[:i], "/")+1 : i]
	}
	for _, step := range []string{StepVMContributor, StepManagedIdentityOperator, StepVaultAccess} {
		if !slices.Contains(p.Skipped, step) {
			continue
		}
		switch {
		case step == StepVMContributor && p.Mic.App != "":
			out = append(out, fmt.Sprintf("podid cloud role grant --state-dir %s --principal %s --role %q --scope resourceGroup/%s", p.StateDir, p.Mic.App, "Virtual Machine Contributor", rg))
		case step == StepManagedIdentityOperator && p.Mic.App != "" && p.Demo != nil:
			out = append(out, fmt.Sprintf("podid cloud role grant --state-dir %s --principal %s --role %q --scope identity/%s", p.StateDir, p.Mic.App, "Managed Identity Operator", lastSegment(p.Demo.IdentityID)))
		case step == StepVaultAccess && p.Demo != nil:
			out = append(out, fmt.Sprintf("podid cloud vault-policy set --state-dir %s --vault %s --principal %s --secrets get,list", p.StateDir, p.Demo.Vault, lastSegment(p.Demo.IdentityID)))
		}
	}
	return out
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

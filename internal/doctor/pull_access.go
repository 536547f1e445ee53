package doctor

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/cloud/acr"
	"github.com/podid/podid/internal/cloud/authz"
)

// acrAccess is what the cloud says about a node's kubelet pulling a
// repository from a registry.
type acrAccess struct {
	// known says the cloud could answer; otherwise why says what it
	// could not see.
	known bool
	why   string
	// found is false when the registry is not among those the doctor
	// can list (known is then true).
	found    bool
	registry RegistryFact
	// kubelet is the identity the node's kubelet pulls as.
	kubelet MachineIdentity
	// allowed says a role at the registry or above lets the kubelet
	// pull the repository; grant is that role's assignment.
	allowed bool
	grant   RoleGrant
	// abacIgnored names the registry role (AcrPull, …) the kubelet holds
	// that an rbac-abac registry ignores, or "".
	abacIgnored string
}

// decideACRAccess answers, from the cloud facts alone, whether node's
// kubelet may pull repo from registry (a lower-case name).
func decideACRAccess(f *Facts, registry, repo, node string) acrAccess {
	if f.Cloud == nil || f.Cloud.Pulls == nil {
		return acrAccess{why: "no cloud access"}
	}
	pc := f.Cloud.Pulls
	if e, bad := pc.RegistryErrors[registry]; bad {
		return acrAccess{why: "the cloud did not list the registries: " + e}
	}
	reg, found := pc.Registries[registry]
	if !found {
		return acrAccess{known: true}
	}
	a := acrAccess{known: true, found: true, registry: reg}
	if reg.GrantsErr != "" {
		return acrAccess{registry: reg, found: true, why: "the cloud did not list the registry's role assignments: " + reg.GrantsErr}
	}
	kubelet, why := kubeletIdentity(f, node)
	if why != "" {
		return acrAccess{registry: reg, found: true, why: why}
	}
	a.kubelet = kubelet
	a.allowed, a.grant = mayPull(reg, kubelet.PrincipalID, repo, reg.ABAC)
	if !a.allowed && reg.ABAC {
		if ok, g := mayPull(reg, kubelet.PrincipalID, repo, false); ok {
			a.abacIgnored = g.RoleName
		}
	}
	return a
}

// mayPull decides with Azure's own rules (authz.Authorize) whether
// principal may pull repo from reg: in rbac mode a role with the
// control-plane action registries/pull/read (AcrPull, AcrPush, Reader,
// Contributor, Owner), in rbac-abac mode one with the data action
// repositories/content/read whose condition allows repo.
func mayPull(reg RegistryFact, principal, repo string, abac bool) (bool, RoleGrant) {
	var as []authz.Assignment
	defs := map[string]authz.RoleDefinition{}
	for i, g := range reg.Grants {
		as = append(as, authz.Assignment{ID: fmt.Sprint(i), Scope: g.Scope, RoleDefinitionID: g.RoleDefinitionID, PrincipalID: g.PrincipalID, Condition: g.Condition})
		defs[strings.ToLower(g.RoleDefinitionID)] = authz.RoleDefinition{ID: g.RoleDefinitionID, RoleName: g.RoleName, Permissions: g.Permissions}
	}
	req := authz.Request{PrincipalID: principal, Action: acr.LegacyPullAction, Scope: reg.ID}
	if abac {
		req = authz.Request{PrincipalID: principal, Action: acr.ContentReadAction, DataAction: true, Scope: reg.ID,
			Attributes: map[string]string{acr.RepositoryNameAttribute: repo}}
	}
	d := authz.Authorize(req, as, defs)
	if !d.Allowed {
		return false, RoleGrant{}
	}
	var i int
	_, _ = fmt.Sscan(d.AssignmentID, &i)
	return true, reg.Grants[i]
}

// kubeletIdentity is the identity node's kubelet pulls as: of the
// user-assigned identities on its scale set, the one that is not a pod
// identity mic put there (an AzureIdentity's resource ID); among several,
// AKS's <cluster>-agentpool. why says why it cannot be told.
func kubeletIdentity(f *Facts, node string) (MachineIdentity, string) {
	pc := f.Cloud.Pulls
	if e, bad := pc.MachineErrors[node]; bad {
		return MachineIdentity{}, "the cloud did not show node " + node + "'s machine: " + e
	}
	m, ok := pc.Machines[node]
	if !ok {
		return MachineIdentity{}, "node " + node + " has no Azure providerID, so its machine and kubelet identity are unknown"
	}
	podIdentity := map[string]bool{}
	for _, id := range f.Identities {
		podIdentity[strings.ToLower(id.Spec.ResourceID)] = true
	}
	var candidates []MachineIdentity
	for _, id := range m.Identities {
		if !podIdentity[strings.ToLower(id.ResourceID)] {
			candidates = append(candidates, id)
		}
	}
	if len(candidates) > 1 {
		for _, c := range candidates {
			if strings.HasSuffix(strings.ToLower(c.Name()), "-agentpool") {
				return c, ""
			}
		}
	}
	if len(candidates) != 1 {
		names := make([]string, len(candidates))
		for i, c := range candidates {
			names[i] = c.Name()
		}
		return MachineIdentity{}, fmt.Sprintf("%s carries %d user-assigned identities besides pod identities (%s), so which one the kubelet pulls as is unknown (azure.json's userAssignedIdentityID on the node says)", m.ID, len(candidates), strings.Join(names, ", "))
	}
	return candidates[0], ""
}

// nodeInternalIP is the node's InternalIP, or "".
func nodeInternalIP(f *Facts, node string) string {
	for _, n := range f.Nodes {
		if n.Name != node {
			continue
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				return a.Address
			}
		}
	}
	return ""
}

// networkRefusal says why the registry's network rules refuse a client at
// ip ("" when they let it in), as ACR decides (acr.FirewallAllows).
func networkRefusal(reg RegistryFact, ip string) string {
	n := acr.Network{PublicNetworkAccess: reg.PublicNetworkAccess, DefaultAction: reg.DefaultAction, IPRules: reg.IPRules}
	switch {
	case strings.EqualFold(reg.PublicNetworkAccess, acr.AccessDisabled):
		return fmt.Sprintf("registry %s has public network access disabled: only private endpoints reach it", reg.Name)
	case acr.FirewallAllows(n, ip):
		return ""
	case len(reg.IPRules) == 0:
		return fmt.Sprintf("registry %s denies every address by default (networkRuleSet.defaultAction Deny) and has no IP rule", reg.Name)
	}
	return fmt.Sprintf("registry %s denies by default and its IP rules (%s) do not include %s", reg.Name, strings.Join(reg.IPRules, ", "), ip)
}

// describeAccess is the cloud's answer as evidence lines.
func describeAccess(a acrAccess) []string {
	r := a.registry
	ev := []string{fmt.Sprintf("cloud: registry %s (%s), role assignment mode %s, public network access %s, default action %s%s",
		r.Name, r.ID, map[bool]string{false: "rbac", true: "rbac-abac"}[r.ABAC], orPlaceholder(r.PublicNetworkAccess, "-"), r.DefaultAction, ipRulesText(r.IPRules))}
	if a.kubelet.ResourceID != "" {
		ev = append(ev, fmt.Sprintf("cloud: kubelet identity %s (client ID %s, object ID %s)", a.kubelet.Name(), a.kubelet.ClientID, a.kubelet.PrincipalID))
	}
	if a.allowed {
		ev = append(ev, fmt.Sprintf("cloud: %s holds %q at %s", a.kubelet.Name(), a.grant.RoleName, a.grant.Scope))
	} else if a.kubelet.ResourceID != "" {
		ev = append(ev, fmt.Sprintf("cloud: %d role assignments at the registry or above; none lets %s pull", len(r.Grants), a.kubelet.Name()))
	}
	return ev
}

func ipRulesText(rules []string) string {
	if len(rules) == 0 {
		return ""
	}
	return ", IP rules " + strings.Join(rules, ", ")
}

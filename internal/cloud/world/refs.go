package world

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/authz"
)

func (b *builder) tenantRefs(t *Tenant, path string) error {
	// Clusters are built here, before the role assignments scoped to them.
	if err := b.managedClusters(strings.ToLower(t.ID), t, path); err != nil {
		return err
	}
	for si, s := range t.Subscriptions {
		for gi, g := range s.ResourceGroups {
			gp := fmt.Sprintf("%s.subscriptions[%d].resourceGroups[%d]", path, si, gi)
			for _, set := range []struct {
				list  []Machine
				field string
			}{{g.ScaleSets, "scaleSets"}, {g.VirtualMachines, "virtualMachines"}} {
				for mi, m := range set.list {
					cm := b.findMachine(m.Name)
					for ri, ref := range m.Identities {
						i := b.findIdentity(ref)
						if i == nil {
							return fail(m.pos, "identities", fmt.Sprintf("%s.%s[%d].identities[%d]", gp, set.field, mi, ri), "no identity named %q", ref)
						}
						cm.UserAssigned = append(cm.UserAssigned, i.ID)
					}
				}
			}
			for vi, v := range g.Vaults {
				cv := b.findVault(v.Name)
				for pi, p := range v.AccessPolicies {
					pp := fmt.Sprintf("%s.vaults[%d].accessPolicies[%d]", gp, vi, pi)
					oid, err := b.principal(p.Principal)
					if err != nil {
						return fail(p.pos, "principal", pp+".principal", "%v", err)
					}
					for _, perm := range p.Secrets {
						if !permissions[strings.ToLower(perm)] {
							return fail(p.pos, "secrets", pp+".secrets", "%q is not one of get, list, set, delete, all", perm)
						}
					}
					cv.AccessPolicies = append(cv.AccessPolicies, cloud.AccessPolicy{ObjectID: oid, Secrets: p.Secrets})
				}
			}
		}
	}
	defs := authz.Builtins()
	for ri, r := range t.RoleAssignments {
		rp := fmt.Sprintf("%s.roleAssignments[%d]", path, ri)
		oid, err := b.principal(r.Principal)
		if err != nil {
			return fail(r.pos, "principal", rp+".principal", "%v", err)
		}
		def, ok := authz.LookupRole(defs, r.Role)
		if !ok {
			return fail(r.pos, "role", rp+".role", "%q is not a built-in role name or ID", r.Role)
		}
		scope, err := b.scope(r.Scope)
		if err != nil {
			return fail(r.pos, "scope", rp+".scope", "%v", err)
		}
		name := derivedID(oid, def.ID, strings.ToLower(scope))
		b.st.RoleAssignments = append(b.st.RoleAssignments, authz.Assignment{
			ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + name, Name: name, Scope: scope,
			RoleDefinitionID: def.ID, PrincipalID: oid, PrincipalType: principalType(&b.st, oid), Condition: r.Condition, ConditionVersion: conditionVersion(r.Condition)})
	}
	return nil
}

// principal resolves a user principal name, group name, identity name,
// application name, "system/<machine>" or object ID to an object ID.
func (b *builder) principal(ref string) (string, error) {
	if m, ok := strings.CutPrefix(ref, "system/"); ok {
		cm := b.findMachine(m)
		if cm == nil || cm.System == nil {
			return "", fmt.Errorf("no machine %q with a system-assigned identity", m)
		}
		return cm.System.PrincipalID, nil
	}
	if i := b.findIdentity(ref); i != nil {
		return i.PrincipalID, nil
	}
	for _, a := range b.st.Applications {
		if strings.EqualFold(a.Name, ref) {
			return a.ObjectID, nil
		}
	}
	if oid, ok, err := b.personOrGroup(ref); ok || err != nil {
		return oid, err
	}
	if _, err := uuid.Parse(ref); err == nil {
		return strings.ToLower(ref), nil
	}
	return "", fmt.Errorf("no user, group, identity, application or object ID %q", ref)
}

// scope resolves a resource ID or a "kind/name" reference to a resource ID.
func (b *builder) scope(ref string) (string, error) {
	if strings.HasPrefix(ref, "/") {
		return ref, nil
	}
	kind, name, ok := strings.Cut(ref, "/")
	if !ok {
		return "", fmt.Errorf("%q is neither a resource ID nor kind/name", ref)
	}
	switch kind {
	case "subscription":
		for _, s := range b.st.Subscriptions {
			if strings.EqualFold(s.ID, name) || strings.EqualFold(s.Name, name) {
				return "/subscriptions/" + s.ID, nil
			}
		}
	case "resourceGroup":
		for _, g := range b.st.ResourceGroups {
			if strings.EqualFold(g.Name, name) {
				return g.ID, nil
			}
		}
	case "identity":
		if i := b.findIdentity(name); i != nil {
			return i.ID, nil
		}
	case "scaleSet", "virtualMachine":
		if m := b.findMachine(name); m != nil && m.ScaleSet == (kind == "scaleSet") {
			return m.ID, nil
		}
	case "vault":
		if v := b.findVault(name); v != nil {
			return v.ID, nil
		}
	case "registry":
		if r := b.findRegistry(name); r != nil {
			return r.ID, nil
		}
	case "managedCluster":
		return b.clusterScope(name)
	default:
		return "", fmt.Errorf("unknown scope kind %q (subscription, resourceGroup, identity, scaleSet, virtualMachine, vault, registry, managedCluster)", kind)
	}
	return "", fmt.Errorf("no %s named %q", kind, name)
}

func (b *builder) findMachine(name string) *cloud.Machine {
	for _, m := range b.st.Machines {
		if strings.EqualFold(m.Name, name) {
			return m
		}
	}
	return nil
}

func (b *builder) findVault(name string) *cloud.Vault {
	for _, v := range b.st.Vaults {
		if strings.EqualFold(v.Name, name) {
			return v
		}
	}
	return nil
}

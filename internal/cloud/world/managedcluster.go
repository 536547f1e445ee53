package world

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/podid/podid/internal/cloud"
)

// ManagedCluster is an AKS cluster with Azure RBAC for Kubernetes
// authorization, a scope for the AKS roles:
//
//	managedClusters:
//	  - name: aks-poc
//
// Role assignments name it as managedCluster/<name>, or one of its
// namespaces as managedCluster/<name>/namespaces/<namespace>.
type ManagedCluster struct {
	Name string `yaml:"name"`
	pos
}

func (m *ManagedCluster) UnmarshalYAML(n *yaml.Node) error {
	type raw ManagedCluster
	return decodeStrict(n, (*raw)(m), &m.pos)
}

// clusterNameRE is AKS's rule: 1-63 letters, digits, '_' and '-',
// starting and ending with a letter or digit.
var clusterNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$`)

// managedClusters adds the clusters of t's resource groups.
func (b *builder) managedClusters(tid string, t *Tenant, path string) error {
	for si, s := range t.Subscriptions {
		sid := strings.ToLower(s.ID)
		for gi, g := range s.ResourceGroups {
			for ci, c := range g.ManagedClusters {
				cp := fmt.Sprintf("%s.subscriptions[%d].resourceGroups[%d].managedClusters[%d].name", path, si, gi, ci)
				if !clusterNameRE.MatchString(c.Name) {
					return fail(c.pos, "name", cp, "%q is not a valid cluster name (1-63 letters, digits, '_' and '-', starting and ending with a letter or digit)", c.Name)
				}
				if b.findManagedCluster(c.Name) != nil {
					return fail(c.pos, "name", cp, "cluster %q is declared twice; names must be unique in a world", c.Name)
				}
				loc := g.Location
				if loc == "" {
					loc = "eastus"
				}
				id := "/subscriptions/" + sid + "/resourceGroups/" + g.Name + "/providers/Microsoft.ContainerService/managedClusters/" + c.Name
				b.st.ManagedClusters = append(b.st.ManagedClusters, &cloud.ManagedCluster{ID: id, Name: c.Name, SubscriptionID: sid,
					ResourceGroup: g.Name, Location: loc, TenantID: tid})
			}
		}
	}
	return nil
}

func (b *builder) findManagedCluster(name string) *cloud.ManagedCluster {
	for _, m := range b.st.ManagedClusters {
		if strings.EqualFold(m.Name, name) {
			return m
		}
	}
	return nil
}

// clusterScope resolves "<cluster>" or "<cluster>/namespaces/<namespace>".
func (b *builder) clusterScope(ref string) (string, error) {
	name, ns, hasNS := strings.Cut(ref, "/namespaces/")
	m := b.findManagedCluster(name)
	if m == nil {
		return "", fmt.Errorf("no managedCluster named %q", name)
	}
	if !hasNS {
		return m.ID, nil
	}
	if ns == "" || strings.Contains(ns, "/") {
		return "", fmt.Errorf("%q names no namespace; write managedCluster/<cluster>/namespaces/<namespace>", "managedCluster/"+ref)
	}
	return m.ID + "/namespaces/" + ns, nil
}

// principalType is the principalType Azure records for an object ID of st.
func principalType(st *cloud.State, oid string) string {
	for _, u := range st.Users {
		if strings.EqualFold(u.ObjectID, oid) {
			return "User"
		}
	}
	for _, g := range st.Groups {
		if strings.EqualFold(g.ObjectID, oid) {
			return "Group"
		}
	}
	return "ServicePrincipal"
}

// personOrGroup resolves a user principal name or a group name.
func (b *builder) personOrGroup(ref string) (string, bool, error) {
	for _, u := range b.st.Users {
		if strings.EqualFold(u.UPN, ref) {
			return u.ObjectID, true, nil
		}
	}
	var found []*cloud.Group
	for _, g := range b.st.Groups {
		if strings.EqualFold(g.Name, ref) {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		return "", false, nil
	case 1:
		return found[0].ObjectID, true, nil
	default:
		return "", false, fmt.Errorf("group name %q is used in %d tenants; name the group by its object ID", ref, len(found))
	}
}

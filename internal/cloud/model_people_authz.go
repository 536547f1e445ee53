package cloud

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/podid/podid/internal/cloud/authz"
)

// People and groups as role-assignment principals: a role assigned to a
// group applies to every member, directly or through nested groups, as in
// Azure. The directory (model_people.go) says who is in which group.

// principalTenantLocked is the tenant of the directory object objectID:
// a user, group, application, managed identity or system identity.
func (s *store) principalTenantLocked(objectID string) (string, bool) {
	for _, u := range s.st.Users {
		if strings.EqualFold(u.ObjectID, objectID) {
			return u.TenantID, true
		}
	}
	for _, g := range s.st.Groups {
		if strings.EqualFold(g.ObjectID, objectID) {
			return g.TenantID, true
		}
	}
	for _, a := range s.st.Applications {
		if strings.EqualFold(a.ObjectID, objectID) {
			return a.TenantID, true
		}
	}
	for _, i := range s.st.Identities {
		if strings.EqualFold(i.PrincipalID, objectID) {
			return i.TenantID, true
		}
	}
	for _, m := range s.st.Machines {
		if m.System != nil && strings.EqualFold(m.System.PrincipalID, objectID) {
			return m.TenantID, true
		}
	}
	return "", false
}

// memberGroupsLocked is the transitive group membership of objectID in its
// own tenant; none for an object the directory does not know.
func (s *store) memberGroupsLocked(objectID string) []string {
	tenant, ok := s.principalTenantLocked(objectID)
	if !ok {
		return nil
	}
	return s.groupsOfLocked(tenant, objectID)
}

// peopleKindLocked reports User or Group for people and groups.
func (s *store) peopleKindLocked(objectID string) (string, bool) {
	for _, u := range s.st.Users {
		if strings.EqualFold(u.ObjectID, objectID) {
			return "User", true
		}
	}
	for _, g := range s.st.Groups {
		if strings.EqualFold(g.ObjectID, objectID) {
			return "Group", true
		}
	}
	return "", false
}

// Subject is who asks for access: an object ID and the groups an
// authenticator vouched for (a token's groups claim).
type Subject struct {
	ObjectID string
	Groups   []string
}

// CheckAccess decides data or management actions for subject at scope
// against the current role assignments, as Azure's checkaccess API does
// for AKS's authorization webhook. The groups counted are subject.Groups
// together with the directory's transitive memberships of the object and
// of those groups. It reads the live state: a grant or revoke applies to
// the next call.
func (c *Cloud) CheckAccess(subject Subject, scope string, actions []string, data bool) []authz.Decision {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	groups := slices.Clone(subject.Groups)
	groups = append(groups, c.store.memberGroupsLocked(subject.ObjectID)...)
	for _, g := range subject.Groups {
		groups = append(groups, c.store.memberGroupsLocked(g)...)
	}
	out := make([]authz.Decision, len(actions))
	for i, a := range actions {
		req := authz.Request{PrincipalID: subject.ObjectID, Groups: groups, Action: a, Scope: scope, DataAction: data}
		out[i] = authz.Authorize(req, c.store.st.RoleAssignments, c.store.defs)
	}
	return out
}

// LookupPrincipal resolves how an authenticator names a principal — a
// user principal name, or an object ID of any directory object — to an
// object ID. ok is false when the directory knows no such principal.
func (c *Cloud) LookupPrincipal(name string) (objectID string, ok bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	if u := c.store.userByUPNLocked(name); u != nil {
		return u.ObjectID, true
	}
	if _, err := uuid.Parse(name); err != nil {
		return "", false
	}
	if _, ok := c.store.principalTenantLocked(name); ok {
		return strings.ToLower(name), true
	}
	return "", false
}

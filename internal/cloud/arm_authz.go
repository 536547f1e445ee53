package cloud

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/podid/podid/internal/cloud/authz"
)

const (
	roleAssignmentType = "Microsoft.Authorization/roleAssignments"
	roleDefinitionType = "Microsoft.Authorization/roleDefinitions"
)

var filterEqRE = regexp.MustCompile(`(?i)(principalId|roleName)\s+eq\s+'([^']*)'`)

// subscriptionPrefix returns "/subscriptions/<id>" for a scope, or "".
func subscriptionPrefix(scope string) string {
	parts := strings.Split(strings.TrimPrefix(scope, "/"), "/")
	if len(parts) >= 2 && strings.EqualFold(parts[0], "subscriptions") {
		return "/subscriptions/" + parts[1]
	}
	return ""
}

func roleDefinitionJSON(scope string, d authz.RoleDefinition) map[string]any {
	return map[string]any{"id": subscriptionPrefix(scope) + "/providers/" + roleDefinitionType + "/" + d.ID, "name": d.ID, "type": roleDefinitionType,
		"properties": map[string]any{"roleName": d.RoleName, "type": "BuiltInRole", "description": d.Description, "assignableScopes": []string{"/"}, "permissions": d.Permissions}}
}

func roleAssignmentJSON(a authz.Assignment) map[string]any {
	props := map[string]any{"roleDefinitionId": subscriptionPrefix(a.Scope) + "/providers/" + roleDefinitionType + "/" + authz.RoleDefinitionGUID(a.RoleDefinitionID),
		"principalId": a.PrincipalID, "principalType": a.PrincipalType, "scope": a.Scope}
	if a.Condition != "" {
		props["condition"], props["conditionVersion"] = a.Condition, a.ConditionVersion
	}
	return map[string]any{"id": a.ID, "name": a.Name, "type": roleAssignmentType, "properties": props}
}

// serveAuthorization handles {scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}].
func (c *Cloud) serveAuthorization(call *armCall, scope string, rest []string) {
	if sp := subscriptionPrefix(scope); sp != "" && !c.checkSubscription(call, sp[len("/subscriptions/"):]) {
		return
	}
	kind := strings.ToLower(rest[0])
	authScope := scope
	if authScope == "" {
		authScope = "/"
	}
	switch {
	case kind == "roledefinitions" && call.r.Method == http.MethodGet:
		if !c.authorize(call, roleDefinitionType+"/read", authScope) {
			return
		}
		c.serveRoleDefinitions(call, scope, rest[1:])
	case kind == "roleassignments" && len(rest) == 1 && call.r.Method == http.MethodGet:
		if !c.authorize(call, roleAssignmentType+"/read", authScope) {
			return
		}
		c.listRoleAssignments(call, scope)
	case kind == "roleassignments" && len(rest) == 2:
		c.serveRoleAssignment(call, scope, authScope, rest[1])
	default:
		methodNotAllowed(call)
	}
}

func (c *Cloud) serveRoleDefinitions(call *armCall, scope string, rest []string) {
	if len(rest) == 1 {
		d, ok := authz.LookupRole(c.store.defs, rest[0])
		if !ok {
			armError(call.w, http.StatusNotFound, "RoleDefinitionDoesNotExist", fmt.Sprintf("The specified role definition with ID '%s' does not exist.", rest[0]))
			return
		}
		writeJSON(call.w, http.StatusOK, roleDefinitionJSON(scope, d))
		return
	}
	want := ""
	if m := filterEqRE.FindStringSubmatch(call.r.URL.Query().Get("$filter")); m != nil && strings.EqualFold(m[1], "roleName") {
		want = m[2]
	}
	out := []map[string]any{}
	for _, d := range c.store.defs {
		if want == "" || strings.EqualFold(d.RoleName, want) {
			out = append(out, roleDefinitionJSON(scope, d))
		}
	}
	writeJSON(call.w, http.StatusOK, map[string]any{"value": out})
}

func (c *Cloud) listRoleAssignments(call *armCall, scope string) {
	principal := ""
	if m := filterEqRE.FindStringSubmatch(call.r.URL.Query().Get("$filter")); m != nil && strings.EqualFold(m[1], "principalId") {
		principal = m[2]
	}
	c.store.mu.Lock()
	out := []map[string]any{}
	for _, a := range c.store.st.RoleAssignments {
		// Like ARM: assignments at, above or below the scope.
		if !authz.ScopeContains(a.Scope, scope) && !authz.ScopeContains(scope, a.Scope) {
			continue
		}
		if principal == "" || strings.EqualFold(principal, a.PrincipalID) {
			out = append(out, roleAssignmentJSON(a))
		}
	}
	c.store.mu.Unlock()
	writeJSON(call.w, http.StatusOK, map[string]any{"value": out})
}

func (c *Cloud) serveRoleAssignment(call *armCall, scope, authScope, name string) {
	id := scope + "/providers/" + roleAssignmentType + "/" + name
	switch call.r.Method {
	case http.MethodGet:
		if !c.authorize(call, roleAssignmentType+"/read", authScope) {
			return
		}
		c.store.mu.Lock()
		defer c.store.mu.Unlock()
		for _, a := range c.store.st.RoleAssignments {
			if strings.EqualFold(a.ID, id) {
				writeJSON(call.w, http.StatusOK, roleAssignmentJSON(a))
				return
			}
		}
		armError(call.w, http.StatusNotFound, "RoleAssignmentNotFound", fmt.Sprintf("The role assignment '%s' is not found.", name))
	case http.MethodDelete:
		if !c.authorize(call, roleAssignmentType+"/delete", authScope) {
			return
		}
		c.store.mu.Lock()
		defer c.store.mu.Unlock()
		for k, a := range c.store.st.RoleAssignments {
			if strings.EqualFold(a.ID, id) {
				c.store.st.RoleAssignments = append(c.store.st.RoleAssignments[:k], c.store.st.RoleAssignments[k+1:]...)
				c.store.dirty()
				writeJSON(call.w, http.StatusOK, roleAssignmentJSON(a))
				return
			}
		}
		call.w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		if !c.authorize(call, roleAssignmentType+"/write", authScope) {
			return
		}
		var body struct {
			Properties struct {
				RoleDefinitionID string `json:"roleDefinitionId"`
				PrincipalID      string `json:"principalId"`
				PrincipalType    string `json:"principalType"`
				Condition        string `json:"condition"`
				ConditionVersion string `json:"conditionVersion"`
			} `json:"properties"`
		}
		if !decodeBody(call, &body) {
			return
		}
		if _, err := uuid.Parse(name); err != nil {
			armError(call.w, http.StatusBadRequest, "InvalidRoleAssignmentId", fmt.Sprintf("The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", name))
			return
		}
		cond, status, code, msg := assignmentCondition(body.Properties.Condition, body.Properties.ConditionVersion)
		if code != "" {
			armError(call.w, status, code, msg)
			return
		}
		a, status, code, msg := c.createAssignment(scope, name, body.Properties.RoleDefinitionID, body.Properties.PrincipalID, body.Properties.PrincipalType, cond)
		if code != "" {
			armError(call.w, status, code, msg)
			return
		}
		writeJSON(call.w, status, roleAssignmentJSON(a))
	default:
		methodNotAllowed(call)
	}
}

// createAssignment validates and stores a role assignment, returning the
// HTTP status and, on refusal, ARM's error code and message.
func (c *Cloud) createAssignment(scope, name, roleDefID, principalID, principalType string, cond assignmentCond) (authz.Assignment, int, string, string) {
	d, ok := authz.LookupRole(c.store.defs, roleDefID)
	if !ok {
		return authz.Assignment{}, http.StatusBadRequest, "RoleDefinitionDoesNotExist", fmt.Sprintf("The specified role definition with ID '%s' does not exist.", authz.RoleDefinitionGUID(roleDefID))
	}
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	kind, found := c.store.principalKindLocked(principalID)
	if !found {
		return authz.Assignment{}, http.StatusBadRequest, "PrincipalNotFound", fmt.Sprintf("Principal %s does not exist in the directory. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay.", principalID)
	}
	if principalType == "" {
		principalType = kind
	}
	a := authz.Assignment{ID: scope + "/providers/" + roleAssignmentType + "/" + name, Name: name, Scope: scope, RoleDefinitionID: d.ID, PrincipalID: principalID, PrincipalType: principalType,
		Condition: cond.condition, ConditionVersion: cond.version}
	for k, e := range c.store.st.RoleAssignments {
		same := strings.EqualFold(e.PrincipalID, a.PrincipalID) && strings.EqualFold(e.RoleDefinitionID, a.RoleDefinitionID) && strings.EqualFold(e.Scope, a.Scope)
		switch {
		case strings.EqualFold(e.ID, a.ID) && same:
			// A PUT of the same assignment replaces its condition, as
			// Azure lets a condition be added, changed or removed.
			if e.Condition != a.Condition || e.ConditionVersion != a.ConditionVersion {
				e.Condition, e.ConditionVersion = a.Condition, a.ConditionVersion
				c.store.st.RoleAssignments[k] = e
				c.store.dirty()
			}
			return e, http.StatusCreated, "", ""
		case strings.EqualFold(e.ID, a.ID):
			return authz.Assignment{}, http.StatusBadRequest, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."
		case same:
			return authz.Assignment{}, http.StatusConflict, "RoleAssignmentExists", "The role assignment already exists."
		}
	}
	c.store.st.RoleAssignments = append(c.store.st.RoleAssignments, a)
	c.store.dirty()
	return a, http.StatusCreated, "", ""
}

// GrantRole assigns role (built-in name or GUID) to principal (object ID) at
// scope, as an ARM PUT would, bypassing the caller's own authorization.
func (c *Cloud) GrantRole(principalID, role, scope string) (authz.Assignment, error) {
	a, _, code, msg := c.createAssignment(scope, uuid.NewString(), role, principalID, "", assignmentCond{})
	if code != "" && code != "RoleAssignmentExists" {
		return authz.Assignment{}, fmt.Errorf("grant %s to %s at %s: %s: %s", role, principalID, scope, code, msg)
	}
	return a, nil
}

// RevokeRoles removes every assignment of role to principal at exactly scope.
func (c *Cloud) RevokeRoles(principalID, role, scope string) int {
	d, ok := authz.LookupRole(c.store.defs, role)
	if !ok {
		return 0
	}
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	out, n := c.store.st.RoleAssignments[:0], 0
	for _, a := range c.store.st.RoleAssignments {
		if strings.EqualFold(a.PrincipalID, principalID) && strings.EqualFold(a.RoleDefinitionID, d.ID) && strings.EqualFold(a.Scope, scope) {
			n++
			continue
		}
		out = append(out, a)
	}
	c.store.st.RoleAssignments = out
	c.store.dirty()
	return n
}

// principalKindLocked reports ServicePrincipal for apps and managed
// identities, User for people and Group for groups.
func (s *store) principalKindLocked(objectID string) (string, bool) {
	if kind, ok := s.peopleKindLocked(objectID); ok {
		return kind, true
	}
	for _, a := range s.st.Applications {
		if strings.EqualFold(a.ObjectID, objectID) {
			return "ServicePrincipal", true
		}
	}
	for _, i := range s.st.Identities {
		if strings.EqualFold(i.PrincipalID, objectID) {
			return "ServicePrincipal", true
		}
	}
	for _, m := range s.st.Machines {
		if m.System != nil && strings.EqualFold(m.System.PrincipalID, objectID) {
			return "ServicePrincipal", true
		}
	}
	return "", false
}

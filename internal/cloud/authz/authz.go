package authz

import (
	"strings"
)

// Permission is one permission block of a role definition.
type Permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// RoleDefinition is an Azure role definition. ID is the bare GUID.
type RoleDefinition struct {
	ID          string       `json:"id"`
	RoleName    string       `json:"roleName"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
}

// Assignment grants the role RoleDefinitionID (bare GUID) to PrincipalID at
// Scope and below.
type Assignment struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Scope            string `json:"scope"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"`
	// Condition is an ABAC condition (conditionVersion 2.0) that must hold
	// for the assignment to grant anything; empty means none. See EvaluateCondition.
	Condition        string `json:"condition,omitempty"`
	ConditionVersion string `json:"conditionVersion,omitempty"`
}

// Request is one authorization question.
type Request struct {
	// PrincipalID is the caller's object ID.
	PrincipalID string
	// Groups are the object IDs of the groups the caller belongs to,
	// directly or through nested groups. Assignments made to any of them
	// count as the caller's own, as in Azure.
	Groups []string
	// Action is an operation such as
	// "Microsoft.Compute/virtualMachineScaleSets/write".
	Action string
	// DataAction is true when Action is a data-plane action (matched against
	// dataActions/notDataActions only).
	DataAction bool
	// Scope is the resource ID the action targets.
	Scope string
	// Attributes are the request attributes conditions read as
	// @Request[<name>], e.g.
	// "Microsoft.ContainerRegistry/registries/repositories:name".
	Attributes map[string]string
}

// Decision is the answer to a Request.
type Decision struct {
	// Allowed is true when some assignment grants the action.
	Allowed bool
	// AssignmentID names the granting assignment when Allowed.
	AssignmentID string
	// Reason is a short CamelCase explanation.
	Reason string
}

// Reasons reported in Decision.Reason.
const (
	// ReasonGranted means an assignment of a role whose permissions include the action applies.
	ReasonGranted = "Granted"
	// ReasonNoAssignment means no role assignment of the principal covers the scope.
	ReasonNoAssignment = "DeniedWithNoValidRBAC"
	// ReasonNotPermitted means assignments cover the scope but none of their roles permits the action.
	ReasonNotPermitted = "DeniedNotPermittedByRole"
	// ReasonConditionNotMet means a role permits the action but the
	// assignment's condition does not hold for this request.
	ReasonConditionNotMet = "DeniedByCondition"
)

// Authorize decides req against assignments and definitions (keyed by bare,
// lower-case GUID). It is pure: same inputs, same answer.
func Authorize(req Request, assignments []Assignment, definitions map[string]RoleDefinition) Decision {
	covered, conditioned := false, false
	for _, a := range assignments {
		if !req.covers(a.PrincipalID) || !ScopeContains(a.Scope, req.Scope) {
			continue
		}
		covered = true
		def, ok := definitions[strings.ToLower(RoleDefinitionGUID(a.RoleDefinitionID))]
		if !ok {
			continue
		}
		if !Permits(def, req.Action, req.DataAction) {
			continue
		}
		if a.Condition != "" {
			if ok, err := EvaluateCondition(a.Condition, req); err != nil || !ok {
				conditioned = true
				continue
			}
		}
		return Decision{Allowed: true, AssignmentID: a.ID, Reason: ReasonGranted}
	}
	if conditioned {
		return Decision{Reason: ReasonConditionNotMet}
	}
	if covered {
		return Decision{Reason: ReasonNotPermitted}
	}
	return Decision{Reason: ReasonNoAssignment}
}

// covers reports whether an assignment to principalID applies to the
// caller: it names the caller or one of the caller's groups.
func (req Request) covers(principalID string) bool {
	if strings.EqualFold(principalID, req.PrincipalID) {
		return true
	}
	for _, g := range req.Groups {
		if strings.EqualFold(principalID, g) {
			return true
		}
	}
	return false
}

// Permits reports whether def grants action.
func Permits(def RoleDefinition, action string, data bool) bool {
	for _, p := range def.Permissions {
		allow, deny := p.Actions, p.NotActions
		if data {
			allow, deny = p.DataActions, p.NotDataActions
		}
		if matchAny(allow, action) && !matchAny(deny, action) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if MatchAction(p, action) {
			return true
		}
	}
	return false
}

// MatchAction matches action against an Azure action pattern: case-insensitive,
// each '*' matching any run of characters (including '/'), and a "/*/" segment
// also matching a single "/" (so "identities/*/assign/action" grants
// "identities/assign/action", as Managed Identity Operator does in Azure).
func MatchAction(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	return glob(p, a) || (strings.Contains(p, "/*/") && glob(strings.ReplaceAll(p, "/*/", "/"), a))
}

func glob(p, s string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// ScopeContains reports whether outer is resource ID inner or one of its
// ancestors, comparing case-insensitively on whole path segments. "/" contains
// everything.
func ScopeContains(outer, inner string) bool {
	o := strings.ToLower(strings.TrimSuffix(outer, "/"))
	i := strings.ToLower(strings.TrimSuffix(inner, "/"))
	if o == "" {
		return true
	}
	return i == o || strings.HasPrefix(i, o+"/")
}

// RoleDefinitionGUID returns the trailing GUID of a role definition ID such as
// "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/<guid>",
// or id itself when it has no slash.
func RoleDefinitionGUID(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

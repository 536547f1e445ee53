package acr

import (
	"fmt"
	"slices"
	"strings"
)

// Actions a token scope can name.
const (
	ActionPull   = "pull"
	ActionPush   = "push"
	ActionDelete = "delete"
	// ActionAll is the catalog's "*".
	ActionAll = "*"
)

// Scope types.
const (
	TypeRepository = "repository"
	TypeRegistry   = "registry"
	// CatalogName is the registry-scope name of the catalog.
	CatalogName = "catalog"
)

// Access is one entry of a token's "access" claim and of a requested
// scope: the actions on one repository (or on the catalog).
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// String renders a as a scope parameter: "repository:app/web:pull,push".
func (a Access) String() string {
	return a.Type + ":" + a.Name + ":" + strings.Join(a.Actions, ",")
}

// ParseScope parses one scope as the distribution token spec writes it,
// type:name:actions. Repository names cannot contain ':', so the type ends
// at the first colon and the actions start after the last.
func ParseScope(s string) (Access, error) {
	first, last := strings.Index(s, ":"), strings.LastIndex(s, ":")
	if first < 0 || first == last {
		return Access{}, fmt.Errorf("scope %q is not type:name:actions", s)
	}
	a := Access{Type: s[:first], Name: s[first+1 : last]}
	for _, act := range strings.Split(s[last+1:], ",") {
		if act = strings.TrimSpace(act); act != "" && !slices.Contains(a.Actions, act) {
			a.Actions = append(a.Actions, act)
		}
	}
	if a.Type == "" || a.Name == "" || len(a.Actions) == 0 {
		return Access{}, fmt.Errorf("scope %q is not type:name:actions", s)
	}
	return a, nil
}

// ParseScopes parses every scope parameter; each may itself hold several
// scopes separated by spaces (OAuth's form).
func ParseScopes(params []string) ([]Access, error) {
	var out []Access
	for _, p := range params {
		for _, s := range strings.Fields(p) {
			a, err := ParseScope(s)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// Covers reports whether the granted access list allows action on the
// repository (or catalog) named by want's type and name.
func Covers(granted []Access, typ, name, action string) bool {
	for _, g := range granted {
		if g.Type == typ && g.Name == name && (slices.Contains(g.Actions, action) || slices.Contains(g.Actions, ActionAll)) {
			return true
		}
	}
	return false
}

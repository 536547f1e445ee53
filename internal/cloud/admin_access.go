package cloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// AdminGrant is the body of the admin role endpoints: who gets (or loses)
// which built-in role (name or GUID) at which scope (resource ID).
type AdminGrant struct {
	PrincipalID string `json:"principalId"`
	Role        string `json:"role"`
	Scope       string `json:"scope"`
}

// AdminPolicy is the body of the admin access-policy endpoint.
type AdminPolicy struct {
	Vault    string   `json:"vault"`
	ObjectID string   `json:"objectId"`
	Secrets  []string `json:"secrets,omitempty"`
}

// adminAccessHandlers serves what an administrator does in the portal or
// with az, bypassing the caller's own authorization:
//
//	GET    /admin/state               the whole state (to resolve names)
//	POST   /admin/roleAssignments     grant AdminGrant
//	DELETE /admin/roleAssignments     revoke AdminGrant; answers {"removed": n}
//	PUT    /admin/accessPolicies      set AdminPolicy (replaces the principal's)
//	DELETE /admin/accessPolicies      remove the principal's policy
func (c *Cloud) adminAccessHandlers(mux *http.ServeMux) {
	c.adminDeviceHandlers(mux)
	c.adminAppHandlers(mux)
	mux.HandleFunc("GET /admin/state", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, c.Snapshot()) })
	mux.HandleFunc("POST /admin/roleAssignments", func(w http.ResponseWriter, r *http.Request) {
		var g AdminGrant
		if !decodeAdmin(w, r, &g) {
			return
		}
		a, err := c.GrantRole(g.PrincipalID, g.Role, g.Scope)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, roleAssignmentJSON(a))
	})
	mux.HandleFunc("DELETE /admin/roleAssignments", func(w http.ResponseWriter, r *http.Request) {
		var g AdminGrant
		if !decodeAdmin(w, r, &g) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"removed": c.RevokeRoles(g.PrincipalID, g.Role, g.Scope)})
	})
	mux.HandleFunc("PUT /admin/accessPolicies", func(w http.ResponseWriter, r *http.Request) {
		var p AdminPolicy
		if !decodeAdmin(w, r, &p) {
			return
		}
		if err := c.SetAccessPolicy(p.Vault, p.ObjectID, p.Secrets); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
	mux.HandleFunc("DELETE /admin/accessPolicies", func(w http.ResponseWriter, r *http.Request) {
		var p AdminPolicy
		if !decodeAdmin(w, r, &p) {
			return
		}
		n, err := c.RemoveAccessPolicy(p.Vault, p.ObjectID)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"removed": n})
	})
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decode body: " + err.Error()})
		return false
	}
	return true
}

// SetAccessPolicy gives objectID exactly the secret permissions perms
// (get, list, set, delete, all) on an access-policy vault, as the portal's
// "Access policies" page does.
func (c *Cloud) SetAccessPolicy(vault, objectID string, perms []string) error {
	if len(perms) == 0 {
		return fmt.Errorf("set access policy on %s: no secret permissions", vault)
	}
	for _, p := range perms {
		if !slices.Contains([]string{"get", "list", "set", "delete", "all"}, strings.ToLower(p)) {
			return fmt.Errorf("set access policy on %s: %q is not one of get, list, set, delete, all", vault, p)
		}
	}
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	v := c.store.vaultLocked(vault)
	if v == nil {
		return fmt.Errorf("set access policy: vault %s not found", vault)
	}
	if v.RBAC {
		return fmt.Errorf("set access policy: vault %s uses Azure RBAC; grant a role such as Key Vault Secrets User instead", vault)
	}
	if _, ok := c.store.principalKindLocked(objectID); !ok {
		return fmt.Errorf("set access policy on %s: principal %s does not exist in the directory", vault, objectID)
	}
	v.AccessPolicies = slices.DeleteFunc(v.AccessPolicies, func(p AccessPolicy) bool { return strings.EqualFold(p.ObjectID, objectID) })
	v.AccessPolicies = append(v.AccessPolicies, AccessPolicy{ObjectID: objectID, Secrets: slices.Clone(perms)})
	c.store.dirty()
	return nil
}

// RemoveAccessPolicy removes objectID's access policy from vault and says
// how many it removed.
func (c *Cloud) RemoveAccessPolicy(vault, objectID string) (int, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	v := c.store.vaultLocked(vault)
	if v == nil {
		return 0, fmt.Errorf("remove access policy: vault %s not found", vault)
	}
	before := len(v.AccessPolicies)
	v.AccessPolicies = slices.DeleteFunc(v.AccessPolicies, func(p AccessPolicy) bool { return strings.EqualFold(p.ObjectID, objectID) })
	if n := before - len(v.AccessPolicies); n > 0 {
		c.store.dirty()
		return n, nil
	}
	return 0, nil
}

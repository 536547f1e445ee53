package cloud

import (
	"fmt"
	"strings"

	"github.com/podid/podid/internal/cloud/authz"
)

// GrantRoleWithCondition is GrantRole with an ABAC condition (version
// 2.0), as `az role assignment create --condition` makes, e.g. a
// Container Registry Repository Reader limited to one repository:
//
//	@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'nginx'
//
// An existing assignment of the same role, principal and scope gets the
// condition.
func (c *Cloud) GrantRoleWithCondition(principalID, role, scope, condition string) (authz.Assignment, error) {
	a, err := c.GrantRole(principalID, role, scope)
	if err != nil {
		return authz.Assignment{}, err
	}
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	for i, e := range c.store.st.RoleAssignments {
		if strings.EqualFold(e.PrincipalID, principalID) && strings.EqualFold(e.RoleDefinitionID, a.RoleDefinitionID) && strings.EqualFold(e.Scope, scope) {
			c.store.st.RoleAssignments[i].Condition = condition
			c.store.st.RoleAssignments[i].ConditionVersion = "2.0"
			c.store.dirty()
			return c.store.st.RoleAssignments[i], nil
		}
	}
	return authz.Assignment{}, fmt.Errorf("grant %s to %s at %s: the assignment vanished", role, principalID, scope)
}

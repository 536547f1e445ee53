package cloud

import (
	"fmt"
	"strings"
	"sync"

	"github.com/podid/podid/internal/cloud/authz"
)

// store guards State. Methods named *Locked expect mu held.
type store struct {
	mu      sync.Mutex
	st      State
	defs    map[string]authz.RoleDefinition
	patches map[string]int // lower-case machine ID -> PATCH/PUT count
	dirty   func()         // called (with mu held) after each mutation
	// content holds the registries' images (registry_storage.go); it has its own lock.
	content registryContent
	// devices are pending device code sign-ins by device code (aad_device.go); memory only.
	devices map[string]*deviceGrant
}

func newStore(st State) *store {
	return &store{st: st, defs: authz.Builtins(), patches: map[string]int{}, dirty: func() {}}
}

func (s *store) tenantLocked(idOrName string) (Tenant, bool) {
	for _, t := range s.st.Tenants {
		if strings.EqualFold(t.ID, idOrName) || (t.Name != "" && strings.EqualFold(t.Name, idOrName)) {
			return t, true
		}
	}
	return Tenant{}, false
}

func (s *store) subscriptionLocked(id string) (Subscription, bool) {
	for _, sub := range s.st.Subscriptions {
		if strings.EqualFold(sub.ID, id) {
			return sub, true
		}
	}
	return Subscription{}, false
}

func (s *store) groupLocked(sub, name string) *ResourceGroup {
	for _, g := range s.st.ResourceGroups {
		if strings.EqualFold(g.SubscriptionID, sub) && strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}

func (s *store) identityLocked(id string) *Identity {
	for _, i := range s.st.Identities {
		if strings.EqualFold(i.ID, id) {
			return i
		}
	}
	return nil
}

func (s *store) identityByClientLocked(tenant, clientID string) *Identity {
	for _, i := range s.st.Identities {
		if strings.EqualFold(i.ClientID, clientID) && strings.EqualFold(i.TenantID, tenant) {
			return i
		}
	}
	return nil
}

func (s *store) appLocked(tenant, appID string) *Application {
	for _, a := range s.st.Applications {
		if strings.EqualFold(a.AppID, appID) && strings.EqualFold(a.TenantID, tenant) {
			return a
		}
	}
	return nil
}

func (s *store) machineLocked(id string) *Machine {
	for _, m := range s.st.Machines {
		if strings.EqualFold(m.ID, id) {
			return m
		}
	}
	return nil
}

func (s *store) vaultLocked(name string) *Vault {
	for _, v := range s.st.Vaults {
		if strings.EqualFold(v.Name, name) {
			return v
		}
	}
	return nil
}

func (s *store) registryLocked(name string) *Registry {
	for _, r := range s.st.Registries {
		if strings.EqualFold(r.Name, name) {
			return r
		}
	}
	return nil
}

// principalByClientLocked resolves a client_id (app ID or managed identity
// client ID, user- or system-assigned) within tenant.
func (s *store) principalByClientLocked(tenant, clientID string) (Principal, *Application, bool) {
	if a := s.appLocked(tenant, clientID); a != nil {
		return Principal{TenantID: a.TenantID, ObjectID: a.ObjectID, ClientID: a.AppID, Federated: a.Federated}, a, true
	}
	if i := s.identityByClientLocked(tenant, clientID); i != nil {
		return identityPrincipal(i), nil, true
	}
	for _, m := range s.st.Machines {
		if m.System != nil && strings.EqualFold(m.System.ClientID, clientID) && strings.EqualFold(m.TenantID, tenant) {
			return systemPrincipal(m), nil, true
		}
	}
	return Principal{}, nil, false
}

// principalByObjectLocked resolves an object ID to a display "client" for
// ARM messages: managed identities are named by object ID, apps by app ID.
func (s *store) clientNameLocked(objectID string) string {
	for _, a := range s.st.Applications {
		if strings.EqualFold(a.ObjectID, objectID) {
			return a.AppID
		}
	}
	return objectID
}

func identityPrincipal(i *Identity) Principal {
	return Principal{TenantID: i.TenantID, ObjectID: i.PrincipalID, ClientID: i.ClientID, ResourceID: i.ID, Managed: true, Federated: i.Federated}
}

func systemPrincipal(m *Machine) Principal {
	return Principal{TenantID: m.TenantID, ObjectID: m.System.PrincipalID, ClientID: m.System.ClientID, ResourceID: m.ID, Managed: true}
}

// authorizeLocked runs the pure RBAC decision against current state,
// counting assignments made to the principal's groups.
func (s *store) authorizeLocked(principal, action, scope string, data bool) authz.Decision {
	req := authz.Request{PrincipalID: principal, Groups: s.memberGroupsLocked(principal), Action: action, Scope: scope, DataAction: data}
	return authz.Authorize(req, s.st.RoleAssignments, s.defs)
}

// machineIdentitiesLocked returns the principals a machine may get tokens for.
func (s *store) machineIdentitiesLocked(m *Machine) []Principal {
	var out []Principal
	if m.System != nil {
		out = append(out, systemPrincipal(m))
	}
	for _, id := range m.UserAssigned {
		if i := s.identityLocked(id); i != nil {
			out = append(out, identityPrincipal(i))
		}
	}
	return out
}

func resourceID(sub, rg, provider, typ, name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s", sub, rg, provider, typ, name)
}

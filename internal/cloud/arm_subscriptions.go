package cloud

import (
	"net/http"
	"strings"

	"github.com/podid/podid/internal/cloud/authz"
)

// The tenant-level listings Resource Manager serves at the root of its URL
// space. Their JSON mirrors the armsubscriptions models (Subscription,
// TenantIDDescription) so that SubscriptionFinder in az CLI and the SDKs'
// pagers read them unchanged.

// subscriptionPolicies mirrors armsubscriptions.SubscriptionPolicies.
type subscriptionPolicies struct {
	LocationPlacementID string `json:"locationPlacementId"`
	QuotaID             string `json:"quotaId"`
	SpendingLimit       string `json:"spendingLimit"`
}

// managedByTenant mirrors armsubscriptions.ManagedByTenant.
type managedByTenant struct {
	TenantID string `json:"tenantId"`
}

// subscriptionJSON mirrors armsubscriptions.Subscription.
type subscriptionJSON struct {
	ID                   string               `json:"id"`
	SubscriptionID       string               `json:"subscriptionId"`
	TenantID             string               `json:"tenantId"`
	DisplayName          string               `json:"displayName"`
	State                string               `json:"state"`
	SubscriptionPolicies subscriptionPolicies `json:"subscriptionPolicies"`
	AuthorizationSource  string               `json:"authorizationSource"`
	ManagedByTenants     []managedByTenant    `json:"managedByTenants"`
	Tags                 map[string]string    `json:"tags,omitempty"`
}

// tenantJSON mirrors armsubscriptions.TenantIDDescription.
type tenantJSON struct {
	ID             string   `json:"id"`
	TenantID       string   `json:"tenantId"`
	TenantCategory string   `json:"tenantCategory"`
	DisplayName    string   `json:"displayName"`
	Domains        []string `json:"domains"`
	DefaultDomain  string   `json:"defaultDomain,omitempty"`
	TenantType     string   `json:"tenantType"`
	CountryCode    string   `json:"countryCode,omitempty"`
}

func newSubscriptionJSON(sub Subscription) subscriptionJSON {
	return subscriptionJSON{
		ID: "/subscriptions/" + sub.ID, SubscriptionID: sub.ID, TenantID: sub.TenantID, DisplayName: sub.Name, State: "Enabled",
		SubscriptionPolicies: subscriptionPolicies{LocationPlacementID: "Public_2014-09-01", QuotaID: "PayAsYouGo_2014-09-01", SpendingLimit: "Off"},
		AuthorizationSource:  "RoleBased", ManagedByTenants: []managedByTenant{},
	}
}

// serveRootListing answers GET /subscriptions and GET /tenants; it reports
// false for any other path so the caller can route it.
func (c *Cloud) serveRootListing(call *armCall, segs []string) bool {
	if len(segs) != 1 {
		return false
	}
	switch strings.ToLower(segs[0]) {
	case "subscriptions":
		if call.r.Method != http.MethodGet {
			methodNotAllowed(call)
			return true
		}
		writeJSON(call.w, http.StatusOK, map[string]any{"value": c.visibleSubscriptions(call.caller)})
		return true
	case "tenants":
		if call.r.Method != http.MethodGet {
			methodNotAllowed(call)
			return true
		}
		writeJSON(call.w, http.StatusOK, map[string]any{"value": c.visibleTenants(call.caller)})
		return true
	}
	return false
}

// visibleSubscriptions lists, like Resource Manager, the subscriptions of
// the token's tenant in which the caller holds any role assignment anywhere
// in the subscription's scope hierarchy: at the root, on the subscription,
// or on a resource group or resource below it (a Reader on one resource
// group still sees its subscription). Any role counts, data-plane roles too.
func (c *Cloud) visibleSubscriptions(caller tokenClaims) []subscriptionJSON {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	out := []subscriptionJSON{}
	for _, sub := range c.store.st.Subscriptions {
		if !strings.EqualFold(sub.TenantID, caller.TenantID) {
			continue
		}
		scope := "/subscriptions/" + sub.ID
		for _, a := range c.store.st.RoleAssignments {
			if caller.ObjectID != "" && strings.EqualFold(a.PrincipalID, caller.ObjectID) &&
				(authz.ScopeContains(a.Scope, scope) || authz.ScopeContains(scope, a.Scope)) {
				out = append(out, newSubscriptionJSON(sub))
				break
			}
		}
	}
	return out
}

// visibleTenants lists the caller's home tenant, the one its token names.
func (c *Cloud) visibleTenants(caller tokenClaims) []tenantJSON {
	c.store.mu.Lock()
	t, ok := c.store.tenantLocked(caller.TenantID)
	c.store.mu.Unlock()
	if !ok || !strings.EqualFold(t.ID, caller.TenantID) {
		return []tenantJSON{}
	}
	name := t.Name
	if name == "" {
		name = t.ID
	}
	domain := name
	if !strings.Contains(domain, ".") {
		domain = strings.ToLower(domain) + ".onmicrosoft.com"
	}
	return []tenantJSON{{ID: "/tenants/" + t.ID, TenantID: t.ID, TenantCategory: "Home", DisplayName: name,
		Domains: []string{domain}, DefaultDomain: domain, TenantType: "AAD", CountryCode: "US"}}
}

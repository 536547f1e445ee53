package cloud

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Key Vault's management plane: Resource Manager's view of the vaults
// that keyvault.go serves secrets from, read from the same store. Only the
// reads are served (vaults are made by the world file and changed by the
// admin endpoints), so what a doctor or az sees here is exactly what the
// data plane enforces.

const (
	vaultType = "Microsoft.KeyVault/vaults"
	vaultRead = vaultType + "/read"
)

// vaultAPIVersions are the Microsoft.KeyVault/vaults api-versions Resource
// Manager accepts; armkeyvault v1.5.0 sends 2024-11-01. Another version is
// refused as Azure refuses it, with NoRegisteredProviderFound.
var vaultAPIVersions = []string{"2015-06-01", "2016-10-01", "2018-02-14", "2019-09-01", "2021-10-01", "2022-07-01", "2023-02-01", "2023-07-01", "2024-11-01"}

// vaultJSON mirrors armkeyvault.Vault. Azure nests sku in properties and
// lists access policies (empty for an RBAC vault) whatever the model.
func vaultJSON(v *Vault, uri string) map[string]any {
	policies := make([]map[string]any, 0, len(v.AccessPolicies))
	for _, p := range v.AccessPolicies {
		policies = append(policies, map[string]any{"tenantId": v.TenantID, "objectId": p.ObjectID,
			"permissions": map[string][]string{"keys": {}, "secrets": nonNil(slices.Clone(p.Secrets)), "certificates": {}}})
	}
	return map[string]any{"id": v.ID, "name": v.Name, "type": vaultType, "location": v.Location, "tags": map[string]string{},
		"properties": map[string]any{
			"sku":                          map[string]string{"family": "A", "name": "standard"},
			"tenantId":                     v.TenantID,
			"accessPolicies":               policies,
			"enabledForDeployment":         false,
			"enabledForDiskEncryption":     false,
			"enabledForTemplateDeployment": false,
			"enableSoftDelete":             true,
			"softDeleteRetentionInDays":    90,
			"enableRbacAuthorization":      v.RBAC,
			"vaultUri":                     uri,
			"provisioningState":            "Succeeded",
			"publicNetworkAccess":          "Enabled",
		}}
}

// vaultAPIVersionOK answers 400 NoRegisteredProviderFound for an
// api-version Microsoft.KeyVault does not serve.
func vaultAPIVersionOK(call *armCall) bool {
	v := call.r.URL.Query().Get("api-version")
	if slices.Contains(vaultAPIVersions, v) {
		return true
	}
	armError(call.w, http.StatusBadRequest, "NoRegisteredProviderFound", fmt.Sprintf(
		"No registered resource provider found for location 'global' and API version '%s' for type 'vaults'. The supported api-versions are '%s'.",
		v, strings.Join(vaultAPIVersions, ", ")))
	return false
}

// serveVaults routes .../resourceGroups/rg/providers/Microsoft.KeyVault/vaults[/name].
func (c *Cloud) serveVaults(call *armCall, sub, rg string, rest []string) {
	if !vaultAPIVersionOK(call) {
		return
	}
	if call.r.Method != http.MethodGet {
		methodNotAllowed(call)
		return
	}
	switch len(rest) {
	case 0:
		c.listVaultsInGroup(call, sub, rg)
	case 1:
		c.serveVault(call, sub, rg, rest[0])
	default:
		armError(call.w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace 'Microsoft.KeyVault'.")
	}
}

// serveVault answers GET of one vault: 403 before 404, as Resource
// Manager authorizes before it asks the provider.
func (c *Cloud) serveVault(call *armCall, sub, rg, name string) {
	id := resourceID(sub, rg, "Microsoft.KeyVault", "vaults", name)
	if !c.authorize(call, vaultRead, id) {
		return
	}
	urls := c.VaultURLs()
	c.store.mu.Lock()
	var out map[string]any
	// Vault names are global; the path must also name its group.
	if v := c.store.vaultLocked(name); v != nil && strings.EqualFold(v.ID, id) {
		out = vaultJSON(v, urls[v.Name])
	}
	c.store.mu.Unlock()
	if out == nil {
		c.resourceNotFound(call, rg, vaultType, name)
		return
	}
	writeJSON(call.w, http.StatusOK, out)
}

func (c *Cloud) listVaultsInGroup(call *armCall, sub, rg string) {
	if !c.authorize(call, vaultRead, "/subscriptions/"+sub+"/resourceGroups/"+rg) {
		return
	}
	urls := c.VaultURLs()
	c.store.mu.Lock()
	found := c.store.groupLocked(sub, rg) != nil
	var out []map[string]any
	for _, v := range c.store.st.Vaults {
		if strings.EqualFold(v.SubscriptionID, sub) && strings.EqualFold(v.ResourceGroup, rg) {
			out = append(out, vaultJSON(v, urls[v.Name]))
		}
	}
	c.store.mu.Unlock()
	if !found {
		groupNotFound(call, rg)
		return
	}
	writeJSON(call.w, http.StatusOK, map[string]any{"value": nonNil(out)})
}

// serveSubscriptionProvider routes /subscriptions/s/providers/NS/TYPE, the
// subscription-wide listings; only Key Vault's is served.
func (c *Cloud) serveSubscriptionProvider(call *armCall, sub, ns, typ string) {
	if !strings.EqualFold(ns+"/"+typ, vaultType) {
		armError(call.w, http.StatusNotFound, "InvalidResourceType", fmt.Sprintf("The resource type '%s/%s' could not be found.", ns, typ))
		return
	}
	if !vaultAPIVersionOK(call) {
		return
	}
	if call.r.Method != http.MethodGet {
		methodNotAllowed(call)
		return
	}
	c.listVaultsInSubscription(call, sub)
}

// listVaultsInSubscription lists, like Resource Manager, every vault of
// the subscription to a caller who may read vaults on it, and otherwise
// the vaults it may read below it (a Reader on one resource group lists
// that group's vaults, as `az keyvault list` shows). A caller with no role
// anywhere in the subscription is refused with AuthorizationFailed.
func (c *Cloud) listVaultsInSubscription(call *armCall, sub string) {
	scope := "/subscriptions/" + sub
	c.store.mu.Lock()
	whole := c.store.authorizeLocked(call.caller.ObjectID, vaultRead, scope, false).Allowed
	c.store.mu.Unlock()
	if !whole && !c.seesSubscription(call.caller, sub) {
		c.authorize(call, vaultRead, scope) // answers 403 AuthorizationFailed
		return
	}
	urls := c.VaultURLs()
	c.store.mu.Lock()
	var out []map[string]any
	for _, v := range c.store.st.Vaults {
		if strings.EqualFold(v.SubscriptionID, sub) && (whole || c.store.authorizeLocked(call.caller.ObjectID, vaultRead, v.ID, false).Allowed) {
			out = append(out, vaultJSON(v, urls[v.Name]))
		}
	}
	c.store.mu.Unlock()
	writeJSON(call.w, http.StatusOK, map[string]any{"value": nonNil(out)})
}

// seesSubscription reports whether GET /subscriptions shows sub to caller:
// it holds a role somewhere in the subscription's scope hierarchy.
func (c *Cloud) seesSubscription(caller tokenClaims, sub string) bool {
	for _, s := range c.visibleSubscriptions(caller) {
		if strings.EqualFold(s.SubscriptionID, sub) {
			return true
		}
	}
	return false
}

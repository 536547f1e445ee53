package cloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/podid/podid/internal/cloud/acr"
)

// AdminRegistryUpdate is the body of PATCH /admin/registries/{name}, what
// az acr update sets. An empty field leaves the registry's value alone.
type AdminRegistryUpdate struct {
	// SKU is Basic, Standard or Premium.
	SKU string `json:"sku,omitempty"`
	// DefaultAction is the network rule set's Allow or Deny.
	DefaultAction string `json:"defaultAction,omitempty"`
	// PublicNetworkAccess is Enabled or Disabled.
	PublicNetworkAccess string `json:"publicNetworkAccess,omitempty"`
}

// AdminNetworkRule is the body of the network-rule endpoints: one IPv4
// address or CIDR range, as az acr network-rule add|remove --ip-address.
type AdminNetworkRule struct {
	IPAddress string `json:"ipAddress"`
}

// AdminNetworkRuleResult answers the network-rule endpoints: whether the
// rules changed, and the registry as it now is.
type AdminNetworkRuleResult struct {
	Changed  bool     `json:"changed"`
	Registry Registry `json:"registry"`
}

// adminRegistryHandlers serves what az acr update and az acr network-rule
// do, bypassing the caller's authorization but not Azure's validation:
// every change is an ARM PATCH through putRegistry, so a refusal carries
// ARM's status, code and message ({"error": {"code", "message"}}).
//
//	PATCH  /admin/registries/{name}               apply AdminRegistryUpdate; answers the Registry
//	POST   /admin/registries/{name}/networkRules  add AdminNetworkRule; answers AdminNetworkRuleResult
//	DELETE /admin/registries/{name}/networkRules  remove AdminNetworkRule; answers AdminNetworkRuleResult
func (c *Cloud) adminRegistryHandlers(mux *http.ServeMux) {
	mux.HandleFunc("PATCH /admin/registries/{name}", func(w http.ResponseWriter, r *http.Request) {
		var u AdminRegistryUpdate
		if !decodeAdmin(w, r, &u) {
			return
		}
		reg, ok := c.adminRegistry(w, r.PathValue("name"))
		if !ok {
			return
		}
		// az acr update sends the whole network rule set, so the IP rules
		// the caller did not mention are kept, not wiped.
		action := defaultString(u.DefaultAction, reg.DefaultAction)
		c.adminPatchRegistry(w, reg, registryPatch(u.SKU, u.PublicNetworkAccess, action, reg.IPRules), func(r Registry) any { return r })
	})
	for _, add := range []bool{true, false} {
		method := map[bool]string{true: "POST", false: "DELETE"}[add]
		mux.HandleFunc(method+" /admin/registries/{name}/networkRules", func(w http.ResponseWriter, r *http.Request) {
			var rule AdminNetworkRule
			if !decodeAdmin(w, r, &rule) {
				return
			}
			reg, ok := c.adminRegistry(w, r.PathValue("name"))
			if !ok {
				return
			}
			if e := validIPRule(rule.IPAddress); e != nil {
				armError(w, e.status, e.code, e.message)
				return
			}
			rules, changed := editIPRules(reg.IPRules, rule.IPAddress, add)
			if !changed {
				writeJSON(w, http.StatusOK, AdminNetworkRuleResult{Registry: reg})
				return
			}
			// Read, edit, PATCH, as az does: two concurrent edits may lose one.
			c.adminPatchRegistry(w, reg, registryPatch("", "", reg.DefaultAction, rules), func(r Registry) any {
				return AdminNetworkRuleResult{Changed: true, Registry: r}
			})
		})
	}
}

// adminRegistry finds the registry called name or answers 404 naming the
// registries there are.
func (c *Cloud) adminRegistry(w http.ResponseWriter, name string) (Registry, bool) {
	if reg, ok := c.Registry(name); ok {
		return reg, true
	}
	c.store.mu.Lock()
	var names []string
	for _, r := range c.store.st.Registries {
		names = append(names, r.Name)
	}
	c.store.mu.Unlock()
	have := "no registry"
	if len(names) > 0 {
		have = strings.Join(names, ", ")
	}
	armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource '%s/%s' was not found; the cloud has %s.", registryType, name, have))
	return Registry{}, false
}

// adminPatchRegistry PATCHes reg with body and answers answer(updated),
// or the refusal as ARM would.
func (c *Cloud) adminPatchRegistry(w http.ResponseWriter, reg Registry, body map[string]any, answer func(Registry) any) {
	var b registryBody
	j, _ := json.Marshal(body)
	if err := json.Unmarshal(j, &b); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": fmt.Sprintf("build PATCH of registry %s: %v", reg.Name, err)})
		return
	}
	updated, _, refusal := c.putRegistry(reg.SubscriptionID, reg.ResourceGroup, reg.Name, b, false)
	if refusal != nil {
		armError(w, refusal.status, refusal.code, refusal.message)
		return
	}
	writeJSON(w, http.StatusOK, answer(updated))
}

// registryPatch is the RegistryUpdateParameters body az acr update sends:
// the SKU and public access when set, and the whole network rule set.
func registryPatch(sku, publicAccess, defaultAction string, rules []string) map[string]any {
	props := map[string]any{"networkRuleSet": map[string]any{"defaultAction": defaultAction, "ipRules": ipRuleBodies(rules)}}
	if publicAccess != "" {
		props["publicNetworkAccess"] = publicAccess
	}
	body := map[string]any{"properties": props}
	if sku != "" {
		body["sku"] = map[string]string{"name": sku}
	}
	return body
}

// validIPRule refuses what a PATCH would refuse as an IP rule. It runs
// the rule through applyRegistryBody on a scratch Premium registry so the
// code and message are exactly Azure's; remove needs it because removing
// a malformed rule never reaches a PATCH.
func validIPRule(rule string) *registryRefusal {
	scratch := Registry{SKU: "Premium"}
	var b registryBody
	j, _ := json.Marshal(registryPatch("", "", acr.ActionAllow, []string{rule}))
	if err := json.Unmarshal(j, &b); err != nil {
		return badRegistry("InvalidRequestContent", "The request content was invalid and could not be deserialized: '%v'.", err)
	}
	return applyRegistryBody(&scratch, b, false)
}

// editIPRules adds rule to (add) or removes it from rules and says
// whether that changed anything. Rules are compared as ranges, so
// 10.0.0.1 and 10.0.0.1/32 are the same rule; rule must be valid.
func editIPRules(rules []string, rule string, add bool) ([]string, bool) {
	want, _ := acr.ParseIPRule(rule)
	same := func(r string) bool { p, err := acr.ParseIPRule(r); return err == nil && p == want }
	has := slices.ContainsFunc(rules, same)
	switch {
	case add && !has:
		return append(slices.Clone(rules), rule), true
	case !add && has:
		return slices.DeleteFunc(slices.Clone(rules), same), true
	}
	return rules, false
}

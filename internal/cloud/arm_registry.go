package cloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/podid/podid/internal/cloud/acr"
)

// Container Registry's management plane: Microsoft.ContainerRegistry/
// registries created, read, updated, listed and deleted through Resource
// Manager with the same RBAC as every other resource. Bodies mirror the
// REST API's Registry model (api-version 2025-11-01, which adds
// roleAssignmentMode); the data plane (registry_serve.go) enforces what
// they say.

const (
	registryType   = "Microsoft.ContainerRegistry/registries"
	registryRead   = registryType + "/read"
	registryWrite  = registryType + "/write"
	registryDelete = registryType + "/delete"
)

var registryNameRE = regexp.MustCompile(`^[a-zA-Z0-9]{5,50}$`)

// registrySKUs are the SKUs a registry may be created with (Classic is retired).
var registrySKUs = []string{"Basic", "Standard", "Premium"}

// registryBody is the PUT and PATCH body (Registry / RegistryUpdateParameters).
type registryBody struct {
	Location *string           `json:"location"`
	Tags     map[string]string `json:"tags"`
	SKU      *struct {
		Name string `json:"name"`
	} `json:"sku"`
	Properties *struct {
		AdminUserEnabled *bool `json:"adminUserEnabled"`
		NetworkRuleSet   *struct {
			DefaultAction string `json:"defaultAction"`
			IPRules       []struct {
				Action string `json:"action"`
				Value  string `json:"value"`
			} `json:"ipRules"`
		} `json:"networkRuleSet"`
		PublicNetworkAccess  *string `json:"publicNetworkAccess"`
		AnonymousPullEnabled *bool   `json:"anonymousPullEnabled"`
		Policies             *struct {
			AzureADAuthenticationAsArmPolicy *struct {
				Status string `json:"status"`
			} `json:"azureADAuthenticationAsArmPolicy"`
		} `json:"policies"`
		RoleAssignmentMode *string `json:"roleAssignmentMode"`
	} `json:"properties"`
}

// registryRefusal is a validation failure in ARM's terms.
type registryRefusal struct {
	status  int
	code    string
	message string
}

func (e *registryRefusal) Error() string { return e.code + ": " + e.message }

func badRegistry(code, format string, args ...any) *registryRefusal {
	return &registryRefusal{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// validRegistryName refuses a name outside Azure's rule: 5-50 letters and digits.
func validRegistryName(name string) *registryRefusal {
	if registryNameRE.MatchString(name) {
		return nil
	}
	return badRegistry("InvalidResourceName", "Resource name '%s' is invalid. Registry names may contain only alpha numeric characters and must be between 5 and 50 characters.", name)
}

// applyRegistryBody merges b into r (a copy), as PUT (create true) or
// PATCH does, validating each value as Azure does.
func applyRegistryBody(r *Registry, b registryBody, create bool) *registryRefusal {
	if create && (b.Location == nil || *b.Location == "") {
		return badRegistry("LocationRequired", "The location property is required for this definition.")
	}
	if b.Location != nil && *b.Location != "" {
		r.Location = strings.ToLower(strings.ReplaceAll(*b.Location, " ", ""))
	}
	if b.Tags != nil {
		r.Tags = b.Tags
	}
	switch {
	case b.SKU != nil:
		sku := ""
		for _, s := range registrySKUs {
			if strings.EqualFold(s, b.SKU.Name) {
				sku = s
			}
		}
		if sku == "" {
			return badRegistry("InvalidSku", "The SKU '%s' is not valid. Supported SKUs are %s.", b.SKU.Name, strings.Join(registrySKUs, ", "))
		}
		r.SKU = sku
	case create:
		return badRegistry("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Required property 'sku' not found in JSON.'.")
	}
	p := b.Properties
	if p == nil {
		return nil
	}
	if p.AdminUserEnabled != nil {
		r.AdminUserEnabled = *p.AdminUserEnabled
	}
	if p.AnonymousPullEnabled != nil {
		r.AnonymousPullEnabled = *p.AnonymousPullEnabled
	}
	if p.PublicNetworkAccess != nil {
		v, ok := oneOf(*p.PublicNetworkAccess, acr.AccessEnabled, acr.AccessDisabled)
		if !ok {
			return badRegistry("InvalidRequestContent", "The value '%s' of publicNetworkAccess is not one of Enabled, Disabled.", *p.PublicNetworkAccess)
		}
		r.PublicNetworkAccess = v
	}
	if n := p.NetworkRuleSet; n != nil {
		v, ok := oneOf(n.DefaultAction, acr.ActionAllow, acr.ActionDeny)
		if !ok {
			return badRegistry("InvalidRequestContent", "The value '%s' of networkRuleSet.defaultAction is not one of Allow, Deny.", n.DefaultAction)
		}
		rules := []string{}
		for _, ip := range n.IPRules {
			if ip.Action != "" && !strings.EqualFold(ip.Action, acr.ActionAllow) {
				return badRegistry("InvalidRequestContent", "The value '%s' of networkRuleSet.ipRules.action is not Allow.", ip.Action)
			}
			if _, err := acr.ParseIPRule(ip.Value); err != nil {
				return badRegistry("InvalidIpRule", "The IP rule '%s' is not valid. Specify an IPv4 address or an IPv4 CIDR range.", ip.Value)
			}
			rules = append(rules, ip.Value)
		}
		r.DefaultAction, r.IPRules = v, rules
	}
	if p.Policies != nil && p.Policies.AzureADAuthenticationAsArmPolicy != nil {
		v, ok := oneOf(p.Policies.AzureADAuthenticationAsArmPolicy.Status, "enabled", "disabled")
		if !ok {
			return badRegistry("InvalidRequestContent", "The value '%s' of policies.azureADAuthenticationAsArmPolicy.status is not one of enabled, disabled.", p.Policies.AzureADAuthenticationAsArmPolicy.Status)
		}
		r.ARMTokensDisabled = v == "disabled"
	}
	if p.RoleAssignmentMode != nil {
		v, ok := oneOf(*p.RoleAssignmentMode, RoleModeRBAC, RoleModeABAC)
		if !ok {
			return badRegistry("InvalidRequestContent", "The value '%s' of roleAssignmentMode is not one of %s, %s.", *p.RoleAssignmentMode, RoleModeRBAC, RoleModeABAC)
		}
		r.RoleAssignmentMode = v
	}
	if r.SKU != "Premium" && (r.DefaultAction == acr.ActionDeny || r.PublicNetworkAccess == acr.AccessDisabled) {
		return badRegistry("NetworkRuleSetNotSupported", "Network rules and disabled public network access are only supported for registries of the Premium SKU; registry '%s' is %s.", r.Name, r.SKU)
	}
	if r.AnonymousPullEnabled && r.SKU == "Basic" {
		return badRegistry("AnonymousPullNotSupported", "Anonymous pull is only supported for registries of the Standard and Premium SKUs; registry '%s' is Basic.", r.Name)
	}
	return nil
}

func oneOf(v string, allowed ...string) (string, bool) {
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, true
		}
	}
	return "", false
}

// registryJSON mirrors armcontainerregistry.Registry.
func registryJSON(r *Registry) map[string]any {
	rules := make([]map[string]string, 0, len(r.IPRules))
	for _, ip := range r.IPRules {
		rules = append(rules, map[string]string{"action": "Allow", "value": ip})
	}
	armPolicy := "enabled"
	if r.ARMTokensDisabled {
		armPolicy = "disabled"
	}
	tags := r.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return map[string]any{"id": r.ID, "name": r.Name, "type": registryType, "location": r.Location, "tags": tags,
		"sku": map[string]string{"name": r.SKU, "tier": r.SKU},
		"properties": map[string]any{
			"loginServer":       r.LoginServer(),
			"creationDate":      r.Created.UTC().Format("2006-01-02T15:04:05.0000000Z"),
			"provisioningState": "Succeeded",
			"adminUserEnabled":  r.AdminUserEnabled,
			"networkRuleSet":    map[string]any{"defaultAction": r.DefaultAction, "ipRules": rules},
			"policies": map[string]any{
				"quarantinePolicy":                 map[string]string{"status": "disabled"},
				"trustPolicy":                      map[string]string{"type": "Notary", "status": "disabled"},
				"retentionPolicy":                  map[string]any{"days": 7, "status": "disabled"},
				"exportPolicy":                     map[string]string{"status": "enabled"},
				"azureADAuthenticationAsArmPolicy": map[string]string{"status": armPolicy},
			},
			"encryption":                 map[string]string{"status": "disabled"},
			"dataEndpointEnabled":        false,
			"dataEndpointHostNames":      []string{},
			"privateEndpointConnections": []any{},
			"publicNetworkAccess":        r.PublicNetworkAccess,
			"networkRuleBypassOptions":   "AzureServices",
			"zoneRedundancy":             "Disabled",
			"anonymousPullEnabled":       r.AnonymousPullEnabled,
			"roleAssignmentMode":         r.RoleAssignmentMode,
		}}
}

// serveRegistries routes .../resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries[/name].
func (c *Cloud) serveRegistries(call *armCall, sub, rg string, rest []string) {
	switch {
	case len(rest) == 0 && call.r.Method == http.MethodGet:
		c.listRegistriesInGroup(call, sub, rg)
	case len(rest) == 0:
		methodNotAllowed(call)
	case len(rest) == 1:
		c.serveRegistry(call, sub, rg, rest[0])
	default:
		armError(call.w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace 'Microsoft.ContainerRegistry'.")
	}
}

func (c *Cloud) serveRegistry(call *armCall, sub, rg, name string) {
	id := resourceID(sub, rg, "Microsoft.ContainerRegistry", "registries", name)
	switch call.r.Method {
	case http.MethodGet:
		if !c.authorize(call, registryRead, id) {
			return
		}
		c.store.mu.Lock()
		var out map[string]any
		if r := c.store.registryLocked(name); r != nil && strings.EqualFold(r.ID, id) {
			out = registryJSON(r)
		}
		c.store.mu.Unlock()
		if out == nil {
			c.resourceNotFound(call, rg, registryType, name)
			return
		}
		writeJSON(call.w, http.StatusOK, out)
	case http.MethodPut, http.MethodPatch:
		if !c.authorize(call, registryWrite, id) {
			return
		}
		var body registryBody
		if !decodeBody(call, &body) {
			return
		}
		r, created, refusal := c.putRegistry(sub, rg, name, body, call.r.Method == http.MethodPut)
		if refusal != nil {
			armError(call.w, refusal.status, refusal.code, refusal.message)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(call.w, status, registryJSON(&r))
	case http.MethodDelete:
		if !c.authorize(call, registryDelete, id) {
			return
		}
		if !c.deleteRegistry(id) {
			call.w.WriteHeader(http.StatusNoContent)
			return
		}
		call.w.WriteHeader(http.StatusOK)
	default:
		methodNotAllowed(call)
	}
}

// putRegistry creates (PUT of a new name) or updates a registry. PATCH
// (replace false) of a missing registry is ResourceNotFound.
func (c *Cloud) putRegistry(sub, rg, name string, body registryBody, replace bool) (Registry, bool, *registryRefusal) {
	if e := validRegistryName(name); e != nil {
		return Registry{}, false, e
	}
	id := resourceID(sub, rg, "Microsoft.ContainerRegistry", "registries", name)
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	g := c.store.groupLocked(sub, rg)
	if g == nil {
		return Registry{}, false, &registryRefusal{status: http.StatusNotFound, code: "ResourceGroupNotFound", message: fmt.Sprintf("Resource group '%s' could not be found.", rg)}
	}
	existing := c.store.registryLocked(name)
	if existing != nil && !strings.EqualFold(existing.ID, id) {
		return Registry{}, false, &registryRefusal{status: http.StatusConflict, code: "AlreadyInUse", message: fmt.Sprintf(
			"The registry DNS name %s is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability", RegistryLoginServer(name))}
	}
	if existing == nil && !replace {
		return Registry{}, false, &registryRefusal{status: http.StatusNotFound, code: "ResourceNotFound", message: fmt.Sprintf(
			"The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", registryType, name, rg)}
	}
	sub2, _ := c.store.subscriptionLocked(sub)
	var r Registry
	if existing != nil {
		r = *existing
		r.IPRules = append([]string(nil), existing.IPRules...)
	} else {
		r = Registry{ID: id, Name: name, SubscriptionID: sub2.ID, ResourceGroup: g.Name, TenantID: sub2.TenantID,
			PublicNetworkAccess: acr.AccessEnabled, DefaultAction: acr.ActionAllow, RoleAssignmentMode: RoleModeRBAC, Created: c.now().UTC()}
	}
	if e := applyRegistryBody(&r, body, existing == nil); e != nil {
		return Registry{}, false, e
	}
	if existing != nil {
		*existing = r
	} else {
		cp := r
		c.store.st.Registries = append(c.store.st.Registries, &cp)
	}
	c.store.dirty()
	return r, existing == nil, nil
}

func (c *Cloud) deleteRegistry(id string) bool {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	for i, r := range c.store.st.Registries {
		if strings.EqualFold(r.ID, id) {
			c.store.st.Registries = append(c.store.st.Registries[:i], c.store.st.Registries[i+1:]...)
			c.store.content.drop(r.Name)
			c.store.dirty()
			return true
		}
	}
	return false
}

func (c *Cloud) listRegistriesInGroup(call *armCall, sub, rg string) {
	if !c.authorize(call, registryRead, "/subscriptions/"+sub+"/resourceGroups/"+rg) {
		return
	}
	c.store.mu.Lock()
	found := c.store.groupLocked(sub, rg) != nil
	out := []map[string]any{}
	for _, r := range c.store.st.Registries {
		if strings.EqualFold(r.SubscriptionID, sub) && strings.EqualFold(r.ResourceGroup, rg) {
			out = append(out, registryJSON(r))
		}
	}
	c.store.mu.Unlock()
	if !found {
		groupNotFound(call, rg)
		return
	}
	writeJSON(call.w, http.StatusOK, map[string]any{"value": out})
}

// serveRegistrySubscription answers /subscriptions/s/providers/
// Microsoft.ContainerRegistry/{registries,checkNameAvailability}; ok is
// false for another type.
func (c *Cloud) serveRegistrySubscription(call *armCall, sub, ns, typ string) bool {
	if !strings.EqualFold(ns, "Microsoft.ContainerRegistry") {
		return false
	}
	switch {
	case strings.EqualFold(typ, "registries") && call.r.Method == http.MethodGet:
		c.listRegistriesInSubscription(call, sub)
	case strings.EqualFold(typ, "checkNameAvailability") && call.r.Method == http.MethodPost:
		c.checkRegistryName(call)
	default:
		methodNotAllowed(call)
	}
	return true
}

// listRegistriesInSubscription lists like listVaultsInSubscription: all
// of them to a caller who may read registries on the subscription, else
// those it may read below it.
func (c *Cloud) listRegistriesInSubscription(call *armCall, sub string) {
	scope := "/subscriptions/" + sub
	c.store.mu.Lock()
	whole := c.store.authorizeLocked(call.caller.ObjectID, registryRead, scope, false).Allowed
	c.store.mu.Unlock()
	if !whole && !c.seesSubscription(call.caller, sub) {
		c.authorize(call, registryRead, scope)
		return
	}
	c.store.mu.Lock()
	out := []map[string]any{}
	for _, r := range c.store.st.Registries {
		if strings.EqualFold(r.SubscriptionID, sub) && (whole || c.store.authorizeLocked(call.caller.ObjectID, registryRead, r.ID, false).Allowed) {
			out = append(out, registryJSON(r))
		}
	}
	c.store.mu.Unlock()
	writeJSON(call.w, http.StatusOK, map[string]any{"value": out})
}

func (c *Cloud) checkRegistryName(call *armCall) {
	var body struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if !decodeBody(call, &body) {
		return
	}
	if !strings.EqualFold(body.Type, registryType) {
		armError(call.w, http.StatusBadRequest, "InvalidRequestContent", fmt.Sprintf("The resource type '%s' is not supported; use '%s'.", body.Type, registryType))
		return
	}
	out := map[string]any{"nameAvailable": true}
	if e := validRegistryName(body.Name); e != nil {
		out = map[string]any{"nameAvailable": false, "reason": "Invalid", "message": "The specified resource name is invalid. Registry names may contain only alpha numeric characters and must be between 5 and 50 characters."}
	} else {
		c.store.mu.Lock()
		taken := c.store.registryLocked(body.Name) != nil
		c.store.mu.Unlock()
		if taken {
			out = map[string]any{"nameAvailable": false, "reason": "AlreadyExists", "message": "The registry " + body.Name + " is already in use."}
		}
	}
	writeJSON(call.w, http.StatusOK, out)
}

// RegistrySpec is what PutRegistry creates or updates, in world-file terms.
type RegistrySpec struct {
	SubscriptionID string
	ResourceGroup  string
	Name           string
	// Location defaults to the resource group's; SKU to Basic.
	Location string
	SKU      string
	// PublicNetworkAccess (Enabled, Disabled), DefaultAction (Allow,
	// Deny) and IPRules are the network rules; empty means Enabled, Allow.
	PublicNetworkAccess string
	DefaultAction       string
	IPRules             []string
	AnonymousPull       bool
	// ARMTokensDisabled refuses Resource Manager tokens at /oauth2/exchange.
	ARMTokensDisabled bool
	// RoleAssignmentMode is RoleModeRBAC (default) or RoleModeABAC.
	RoleAssignmentMode string
}

// PutRegistry creates or replaces a registry as an ARM PUT would, with
// Azure's validation but without the caller's authorization. Push images
// into it with PushImage; its address is RegistryLoginServer(Name).
func (c *Cloud) PutRegistry(s RegistrySpec) (Registry, error) {
	var b registryBody
	raw := map[string]any{"sku": map[string]string{"name": defaultString(s.SKU, "Basic")},
		"properties": map[string]any{
			"publicNetworkAccess":  defaultString(s.PublicNetworkAccess, acr.AccessEnabled),
			"networkRuleSet":       map[string]any{"defaultAction": defaultString(s.DefaultAction, acr.ActionAllow), "ipRules": ipRuleBodies(s.IPRules)},
			"anonymousPullEnabled": s.AnonymousPull,
			"policies":             map[string]any{"azureADAuthenticationAsArmPolicy": map[string]string{"status": map[bool]string{false: "enabled", true: "disabled"}[s.ARMTokensDisabled]}},
			"roleAssignmentMode":   defaultString(s.RoleAssignmentMode, RoleModeRBAC),
		}}
	loc := s.Location
	if loc == "" {
		c.store.mu.Lock()
		if g := c.store.groupLocked(s.SubscriptionID, s.ResourceGroup); g != nil {
			loc = g.Location
		}
		c.store.mu.Unlock()
	}
	raw["location"] = defaultString(loc, "eastus")
	j, _ := json.Marshal(raw)
	if err := json.Unmarshal(j, &b); err != nil {
		return Registry{}, fmt.Errorf("put registry %s: %w", s.Name, err)
	}
	r, _, refusal := c.putRegistry(s.SubscriptionID, s.ResourceGroup, s.Name, b, true)
	if refusal != nil {
		return Registry{}, fmt.Errorf("put registry %s: %w", s.Name, refusal)
	}
	return r, nil
}

// Registry returns the registry called name (names are global, case-insensitive).
func (c *Cloud) Registry(name string) (Registry, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	if r := c.store.registryLocked(name); r != nil {
		cp := *r
		cp.IPRules = append([]string(nil), r.IPRules...)
		return cp, true
	}
	return Registry{}, false
}

func ipRuleBodies(rules []string) []map[string]string {
	out := []map[string]string{}
	for _, r := range rules {
		out = append(out, map[string]string{"action": "Allow", "value": r})
	}
	return out
}

func defaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

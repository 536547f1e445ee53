package cloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// MaxIdentitiesPerRequest is how many user-assigned identities one VM/VMSS
// write may add or remove.
const MaxIdentitiesPerRequest = 150

const assignAction = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"

func machineType(scaleSet bool) string {
	if scaleSet {
		return "Microsoft.Compute/virtualMachineScaleSets"
	}
	return "Microsoft.Compute/virtualMachines"
}

func (s *store) machineJSONLocked(m *Machine) map[string]any {
	out := map[string]any{"id": m.ID, "name": m.Name, "type": machineType(m.ScaleSet), "location": m.Location,
		"properties": map[string]any{"provisioningState": "Succeeded", "uniqueId": m.UniqueID}}
	if m.ScaleSet {
		out["sku"] = map[string]any{"name": "Standard_DS2_v2", "tier": "Standard", "capacity": m.Capacity}
	}
	var types []string
	ident := map[string]any{}
	if m.System != nil {
		types = append(types, "SystemAssigned")
		ident["principalId"] = m.System.PrincipalID
		ident["tenantId"] = m.TenantID
	}
	if len(m.UserAssigned) > 0 {
		types = append(types, "UserAssigned")
		ua := map[string]any{}
		for _, id := range m.UserAssigned {
			v := map[string]string{}
			if i := s.identityLocked(id); i != nil {
				v["principalId"], v["clientId"] = i.PrincipalID, i.ClientID
			}
			ua[id] = v
		}
		ident["userAssignedIdentities"] = ua
	}
	if len(types) > 0 {
		ident["type"] = strings.Join(types, ", ")
		out["identity"] = ident
	}
	return out
}

// identityPatch is the identity part of a VM/VMSS PATCH or PUT body. A null
// map value removes that identity.
type identityPatch struct {
	Type                   *string                    `json:"type"`
	UserAssignedIdentities map[string]json.RawMessage `json:"userAssignedIdentities"`
}

type machineBody struct {
	Location string         `json:"location"`
	Identity *identityPatch `json:"identity"`
	SKU      *struct {
		Capacity *int `json:"capacity"`
	} `json:"sku"`
}

func (c *Cloud) serveMachines(call *armCall, sub, rg string, scaleSet bool, rest []string) {
	typ := machineType(scaleSet)
	if len(rest) == 0 {
		c.listInGroup(call, typ+"/read", sub, rg, func() []map[string]any {
			var out []map[string]any
			for _, m := range c.store.st.Machines {
				if m.ScaleSet == scaleSet && strings.EqualFold(m.SubscriptionID, sub) && strings.EqualFold(m.ResourceGroup, rg) {
					out = append(out, c.store.machineJSONLocked(m))
				}
			}
			return out
		})
		return
	}
	if len(rest) != 1 {
		armError(call.w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace 'Microsoft.Compute'.")
		return
	}
	name := rest[0]
	id := resourceID(sub, rg, "Microsoft.Compute", typ[len("Microsoft.Compute/"):], name)
	switch call.r.Method {
	case http.MethodGet:
		if !c.authorize(call, typ+"/read", id) {
			return
		}
		c.store.mu.Lock()
		defer c.store.mu.Unlock()
		m := c.store.machineLocked(id)
		if m == nil || m.ScaleSet != scaleSet {
			c.resourceNotFound(call, rg, typ, name)
			return
		}
		writeJSON(call.w, http.StatusOK, c.store.machineJSONLocked(m))
	case http.MethodPatch, http.MethodPut:
		c.writeMachine(call, sub, rg, name, id, scaleSet)
	default:
		methodNotAllowed(call)
	}
}

func (c *Cloud) writeMachine(call *armCall, sub, rg, name, id string, scaleSet bool) {
	typ := machineType(scaleSet)
	if !c.authorize(call, typ+"/write", id) {
		return
	}
	var body machineBody
	if !decodeBody(call, &body) {
		return
	}
	if body.Identity != nil && len(body.Identity.UserAssignedIdentities) > MaxIdentitiesPerRequest {
		armError(call.w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("User Assigned Identities Number '%d' Assign exceed limit '%d' in one request.",
			len(body.Identity.UserAssignedIdentities), MaxIdentitiesPerRequest))
		return
	}
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	m := c.store.machineLocked(id)
	created := false
	if m == nil {
		if call.r.Method == http.MethodPatch {
			c.resourceNotFound(call, rg, typ, name)
			return
		}
		g := c.store.groupLocked(sub, rg)
		if g == nil {
			groupNotFound(call, rg)
			return
		}
		s, _ := c.store.subscriptionLocked(sub)
		m = &Machine{ID: id, Name: name, ScaleSet: scaleSet, SubscriptionID: sub, ResourceGroup: g.Name, Location: body.Location, TenantID: s.TenantID, UniqueID: uuid.NewString(), Capacity: 1}
		created = true
	}
	if body.Identity != nil {
		if ok := c.checkLinked(call, m, body.Identity); !ok {
			return
		}
		if msg := c.store.applyIdentityLocked(m, body.Identity, call.r.Method == http.MethodPut); msg != "" {
			armError(call.w, http.StatusBadRequest, "FailedIdentityOperation", msg)
			return
		}
	}
	if body.SKU != nil && body.SKU.Capacity != nil && scaleSet {
		m.Capacity = *body.SKU.Capacity
	}
	if created {
		c.store.st.Machines = append(c.store.st.Machines, m)
	}
	c.store.patches[lower(m.ID)]++
	c.metrics.patches.WithLabelValues(m.Name).Inc()
	c.store.dirty()
	if err := c.ensureListenersLocked(); err != nil {
		c.log.Error("start IMDS listeners", "machine", m.Name, "error", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(call.w, status, c.store.machineJSONLocked(m))
}

// checkLinked answers 403 LinkedAuthorizationFailed unless the caller may
// assign every identity the request adds. store.mu is held.
func (c *Cloud) checkLinked(call *armCall, m *Machine, p *identityPatch) bool {
	var denied []string
	for id, v := range p.UserAssignedIdentities {
		if isNull(v) || containsFold(m.UserAssigned, id) {
			continue
		}
		if !c.store.authorizeLocked(call.caller.ObjectID, assignAction, id, false).Allowed {
			denied = append(denied, strings.ToLower(id))
		}
	}
	if len(denied) == 0 {
		return true
	}
	client := c.store.clientNameLocked(call.caller.ObjectID)
	c.log.Info("arm call refused", "principal", call.caller.ObjectID, "action", assignAction, "linked", len(denied))
	armError(call.w, http.StatusForbidden, "LinkedAuthorizationFailed", fmt.Sprintf(
		"The client '%s' with object id '%s' has permission to perform action '%s/write' on scope '%s'; however, it does not have permission to perform action '%s' on the linked scope(s) '%s' or the linked scope(s) are invalid.",
		client, call.caller.ObjectID, machineType(m.ScaleSet), m.ID, assignAction, strings.Join(denied, ",")))
	return false
}

// applyIdentityLocked applies an identity patch (or, for PUT, a
// replacement). It returns an error message when an identity is unknown.
func (s *store) applyIdentityLocked(m *Machine, p *identityPatch, replace bool) string {
	for id, v := range p.UserAssignedIdentities {
		if !isNull(v) && s.identityLocked(id) == nil {
			return fmt.Sprintf("Identity operation for resource '%s' failed with error 'Failed to perform resource identity operation. Status: 'NotFound'. Response: '{\"error\":{\"code\":\"NotFound\",\"message\":\"Resource '%s' does not exist.\"}}'.'.", m.ID, id)
		}
	}
	wantSystem, wantUser := m.System != nil, len(m.UserAssigned) > 0 || len(p.UserAssignedIdentities) > 0
	if p.Type != nil {
		t := strings.ToLower(strings.ReplaceAll(*p.Type, " ", ""))
		wantSystem = strings.Contains(t, "systemassigned")
		wantUser = strings.Contains(t, "userassigned")
	}
	if wantSystem && m.System == nil {
		m.System = &SystemIdentity{PrincipalID: uuid.NewString(), ClientID: uuid.NewString()}
	}
	if !wantSystem {
		m.System = nil
	}
	if replace {
		m.UserAssigned = nil
	}
	for id, v := range p.UserAssignedIdentities {
		if isNull(v) {
			m.UserAssigned = removeFold(m.UserAssigned, id)
		} else if !containsFold(m.UserAssigned, id) {
			m.UserAssigned = append(m.UserAssigned, id)
		}
	}
	if !wantUser {
		m.UserAssigned = nil
	}
	return ""
}

func isNull(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func removeFold(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if !strings.EqualFold(x, s) {
			out = append(out, x)
		}
	}
	return out
}

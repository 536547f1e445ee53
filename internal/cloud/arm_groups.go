package cloud

import (
	"net/http"
	"strings"
)

func groupJSON(g *ResourceGroup) map[string]any {
	return map[string]any{"id": g.ID, "name": g.Name, "type": "Microsoft.Resources/resourceGroups", "location": g.Location,
		"properties": map[string]string{"provisioningState": "Succeeded"}}
}

func (c *Cloud) serveGroupList(call *armCall, sub string) {
	if call.r.Method != http.MethodGet {
		methodNotAllowed(call)
		return
	}
	if !c.authorize(call, "Microsoft.Resources/subscriptions/resourceGroups/read", "/subscriptions/"+sub) {
		return
	}
	c.store.mu.Lock()
	var out []map[string]any
	for _, g := range c.store.st.ResourceGroups {
		if strings.EqualFold(g.SubscriptionID, sub) {
			out = append(out, groupJSON(g))
		}
	}
	c.store.mu.Unlock()
	writeJSON(call.w, http.StatusOK, map[string]any{"value": nonNil(out)})
}

func (c *Cloud) serveGroup(call *armCall, sub, name string) {
	scope := "/subscriptions/" + sub + "/resourceGroups/" + name
	switch call.r.Method {
	case http.MethodGet, http.MethodHead:
		if !c.authorize(call, "Microsoft.Resources/subscriptions/resourceGroups/read", scope) {
			return
		}
		c.store.mu.Lock()
		g := c.store.groupLocked(sub, name)
		c.store.mu.Unlock()
		if g == nil {
			if call.r.Method == http.MethodHead {
				call.w.WriteHeader(http.StatusNotFound)
				return
			}
			groupNotFound(call, name)
			return
		}
		if call.r.Method == http.MethodHead {
			call.w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(call.w, http.StatusOK, groupJSON(g))
	case http.MethodPut:
		if !c.authorize(call, "Microsoft.Resources/subscriptions/resourceGroups/write", scope) {
			return
		}
		var body struct {
			Location string `json:"location"`
		}
		if !decodeBody(call, &body) {
			return
		}
		if body.Location == "" {
			armError(call.w, http.StatusBadRequest, "LocationRequired", "The location property is required for this definition.")
			return
		}
		g, created := c.PutGroup(sub, name, body.Location)
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(call.w, status, groupJSON(&g))
	default:
		methodNotAllowed(call)
	}
}

// PutGroup creates or updates a resource group; created reports a new one.
func (c *Cloud) PutGroup(sub, name, location string) (ResourceGroup, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	defer c.store.dirty()
	if g := c.store.groupLocked(sub, name); g != nil {
		g.Location = location
		return *g, false
	}
	g := &ResourceGroup{ID: "/subscriptions/" + sub + "/resourceGroups/" + name, Name: name, SubscriptionID: sub, Location: location}
	c.store.st.ResourceGroups = append(c.store.st.ResourceGroups, g)
	return *g, true
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// listInGroup answers a GET listing of resources in a resource group:
// authorize action on the group, then collect (run with store.mu held).
func (c *Cloud) listInGroup(call *armCall, action, sub, rg string, collect func() []map[string]any) {
	if call.r.Method != http.MethodGet {
		methodNotAllowed(call)
		return
	}
	if !c.authorize(call, action, "/subscriptions/"+sub+"/resourceGroups/"+rg) {
		return
	}
	c.store.mu.Lock()
	out := collect()
	c.store.mu.Unlock()
	writeJSON(call.w, http.StatusOK, map[string]any{"value": nonNil(out)})
}

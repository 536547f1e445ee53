package cloud

import (
	"fmt"
	"net/http"
	"strings"
)

// Resource Manager's view of AKS clusters: reads, and the kubeconfig
// actions (arm_managedcluster_credentials.go). Clusters come from the
// world file; they are scopes for the AKS roles.

const managedClusterRead = ManagedClusterType + "/read"

// managedClusterJSON mirrors the parts of armcontainerservice.ManagedCluster
// that say how the cluster authenticates and authorizes people: managed
// Azure AD integration with Azure RBAC for Kubernetes authorization.
func managedClusterJSON(m *ManagedCluster) map[string]any {
	return map[string]any{"id": m.ID, "name": m.Name, "type": ManagedClusterType, "location": m.Location, "tags": map[string]string{},
		"properties": map[string]any{
			"provisioningState": "Succeeded",
			"enableRBAC":        true,
			"aadProfile":        map[string]any{"managed": true, "enableAzureRBAC": true, "tenantID": m.TenantID},
		}}
}

// serveManagedClusters routes .../resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters[/name].
func (c *Cloud) serveManagedClusters(call *armCall, sub, rg string, rest []string) {
	if len(rest) == 2 {
		if op, ok := credentialOps[strings.ToLower(rest[1])]; ok {
			c.serveClusterCredential(call, sub, rg, rest[0], op)
			return
		}
	}
	if call.r.Method != http.MethodGet {
		methodNotAllowed(call)
		return
	}
	switch len(rest) {
	case 0:
		c.listManagedClusters(call, sub, rg)
	case 1:
		c.serveManagedCluster(call, sub, rg, rest[0])
	default:
		armError(call.w, http.StatusNotFound, "InvalidResourceType", fmt.Sprintf("The resource type '%s' could not be found in the namespace 'Microsoft.ContainerService'.", strings.Join(rest[1:], "/")))
	}
}

// serveManagedCluster answers GET of one cluster, authorizing before it
// looks (403 before 404), as Resource Manager does.
func (c *Cloud) serveManagedCluster(call *armCall, sub, rg, name string) {
	id := resourceID(sub, rg, "Microsoft.ContainerService", "managedClusters", name)
	if !c.authorize(call, managedClusterRead, id) {
		return
	}
	c.store.mu.Lock()
	var out map[string]any
	if m := c.store.managedClusterLocked(id); m != nil {
		out = managedClusterJSON(m)
	}
	c.store.mu.Unlock()
	if out == nil {
		c.resourceNotFound(call, rg, ManagedClusterType, name)
		return
	}
	writeJSON(call.w, http.StatusOK, out)
}

func (c *Cloud) listManagedClusters(call *armCall, sub, rg string) {
	if !c.authorize(call, managedClusterRead, "/subscriptions/"+sub+"/resourceGroups/"+rg) {
		return
	}
	c.store.mu.Lock()
	found := c.store.groupLocked(sub, rg) != nil
	var out []map[string]any
	for _, m := range c.store.st.ManagedClusters {
		if strings.EqualFold(m.SubscriptionID, sub) && strings.EqualFold(m.ResourceGroup, rg) {
			out = append(out, managedClusterJSON(m))
		}
	}
	c.store.mu.Unlock()
	if !found {
		groupNotFound(call, rg)
		return
	}
	writeJSON(call.w, http.StatusOK, map[string]any{"value": nonNil(out)})
}

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
// Azure AD integration with Azure RBAC for Kubernetes authorization, and
// whether local accounts (the admin credential) are disabled, which `az aks
// show` reports as disableLocalAccounts. Until podid up reports the
// cluster's API server (access, ok false), local accounts are not known to
// be disabled, AKS's default. AKS always sends servicePrincipalProfile, with
// client ID "msi" for a cluster that runs as managed identities; az aks
// show fails on a cluster without one.
func managedClusterJSON(m *ManagedCluster, access ClusterAccess, ok bool) map[string]any {
	return map[string]any{"id": m.ID, "name": m.Name, "type": ManagedClusterType, "location": m.Location, "tags": map[string]string{},
		"properties": map[string]any{
			"provisioningState":       "Succeeded",
			"enableRBAC":              true,
			"disableLocalAccounts":    ok && !access.LocalAccounts(),
			"servicePrincipalProfile": map[string]any{"clientId": "msi"},
			"aadProfile":              map[string]any{"managed": true, "enableAzureRBAC": true, "tenantID": m.TenantID},
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
	access, ok := c.clusterAccessOf(id)
	c.store.mu.Lock()
	var out map[string]any
	if m := c.store.managedClusterLocked(id); m != nil {
		out = managedClusterJSON(m, access, ok)
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
			access, ok := c.clusterAccessOf(m.ID)
			out = append(out, managedClusterJSON(m, access, ok))
		}
	}
	c.store.mu.Unlock()
	if !found {
		groupNotFound(call, rg)
		return
	}
	writeJSON(call.w, http.StatusOK, map[string]any{"value": nonNil(out)})
}

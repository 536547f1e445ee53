package cloud

import "strings"

// ManagedClusterType is the ARM type of an AKS cluster.
const ManagedClusterType = "Microsoft.ContainerService/managedClusters"

// ManagedCluster is an AKS cluster as Resource Manager knows it: a scope
// for the AKS roles (at the cluster, or at <ID>/namespaces/<name>) whose
// Kubernetes API is authorized by Azure RBAC. The cluster itself is
// whatever API server the operator points the authorization webhook at.
type ManagedCluster struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	SubscriptionID string `json:"subscriptionId"`
	ResourceGroup  string `json:"resourceGroup"`
	Location       string `json:"location"`
	TenantID       string `json:"tenantId"`
}

// managedClusterLocked finds a cluster by resource ID.
func (s *store) managedClusterLocked(id string) *ManagedCluster {
	for _, m := range s.st.ManagedClusters {
		if strings.EqualFold(m.ID, id) {
			return m
		}
	}
	return nil
}

// ManagedCluster returns the cluster with resource ID id.
func (c *Cloud) ManagedCluster(id string) (ManagedCluster, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	if m := c.store.managedClusterLocked(id); m != nil {
		return *m, true
	}
	return ManagedCluster{}, false
}

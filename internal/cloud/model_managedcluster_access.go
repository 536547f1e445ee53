package cloud

import (
	"fmt"
	"strings"
	"sync"

	"github.com/podid/podid/internal/signin"
)

// ClusterAccess is what Resource Manager knows about a managed cluster's
// API server, which the world file cannot say: where it listens and how
// people sign in to it. podid up reports it once kube-apiserver runs; until
// then the cluster has no credentials to hand out. It lives in memory only:
// it describes one run, and the admin key must not reach state.json.
type ClusterAccess struct {
	// Cluster names the kubeconfig entries (clusterUser_<rg>_<name>) and
	// holds the API server URL and its CA.
	Cluster signin.Cluster
	// User is the exec entry of the clusterUser kubeconfig: kubelogin
	// with device code, as AKS writes it for managed Azure AD.
	User signin.Exec
	// AdminCertPEM and AdminKeyPEM are the local admin account's client
	// certificate; both empty when local accounts are disabled.
	AdminCertPEM, AdminKeyPEM []byte
}

// LocalAccounts reports whether the cluster hands out its admin account.
func (a ClusterAccess) LocalAccounts() bool {
	return len(a.AdminCertPEM) > 0 && len(a.AdminKeyPEM) > 0
}

// clusterAccess maps a lower-cased cluster resource ID to its access.
type clusterAccess struct {
	mu sync.Mutex
	m  map[string]ClusterAccess
}

// SetClusterAccess records how the API server of the managed cluster with
// resource ID id is reached, replacing what an earlier run reported.
func (c *Cloud) SetClusterAccess(id string, a ClusterAccess) error {
	if _, ok := c.ManagedCluster(id); !ok {
		return fmt.Errorf("set access of managed cluster %s: the world has no such cluster", id)
	}
	if a.Cluster.Server == "" || len(a.Cluster.CAPEM) == 0 {
		return fmt.Errorf("set access of managed cluster %s: the API server URL and CA are required", id)
	}
	c.access.mu.Lock()
	defer c.access.mu.Unlock()
	if c.access.m == nil {
		c.access.m = map[string]ClusterAccess{}
	}
	c.access.m[strings.ToLower(id)] = a
	return nil
}

// clusterAccessOf returns the access podid up reported for cluster id.
func (c *Cloud) clusterAccessOf(id string) (ClusterAccess, bool) {
	c.access.mu.Lock()
	defer c.access.mu.Unlock()
	a, ok := c.access.m[strings.ToLower(id)]
	return a, ok
}

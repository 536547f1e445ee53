package signin

import clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

// LegacyUserConfig is the kubeconfig of az aks get-credentials --format
// azure: the same cluster and names as UserConfig, with the azure
// auth-provider entry that client-go removed in 1.26 (kubectl then prints
// its removal notice). kubelogin convert-kubeconfig turns it into an exec
// entry. config-mode "1" asks for tokens whose audience is the server ID
// itself, without the legacy "spn:" prefix, as AKS writes it.
func LegacyUserConfig(c Cluster, serverID, clientID, tenantID string) *clientcmdapi.Config {
	return config(c, c.UserContext(), c.userName("clusterUser"), &clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{
		Name: "azure",
		Config: map[string]string{
			"apiserver-id": serverID, "client-id": clientID, "tenant-id": tenantID,
			"environment": "AzurePublicCloud", "config-mode": "1",
		},
	}})
}

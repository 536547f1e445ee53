package cloud

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podid/podid/internal/signin"
)

// The kubeconfig actions of a managed cluster (az aks get-credentials).
// Each is its own permission: the user kubeconfig carries no secret (people
// sign in through Azure AD), the admin one the local admin's certificate.
const (
	listUserCredentialAction  = ManagedClusterType + "/listClusterUserCredential/action"
	listAdminCredentialAction = ManagedClusterType + "/listClusterAdminCredential/action"
)

// credentialOp is one of the kubeconfig actions.
type credentialOp struct {
	action string
	// name is the kubeconfig's name in the answer, as AKS names it.
	name  string
	admin bool
}

// credentialOps are keyed by the lower-cased action segment of the path;
// Resource Manager matches paths without regard to case.
var credentialOps = map[string]credentialOp{
	"listclusterusercredential":  {action: listUserCredentialAction, name: "clusterUser"},
	"listclusteradmincredential": {action: listAdminCredentialAction, name: "clusterAdmin", admin: true},
}

// Credential formats of listClusterUserCredential (az aks get-credentials
// --format): exec, the default, runs kubelogin; azure is the auth-provider
// entry client-go no longer has.
const (
	credentialFormatExec  = "exec"
	credentialFormatAzure = "azure"
)

// serveClusterCredential answers POST .../managedClusters/{name}/{op} with
// {"kubeconfigs":[{"name":..., "value":<base64 kubeconfig>}]}. As Resource
// Manager does, it authorizes before it looks (403 before 404); then the
// cluster refuses what AKS refuses.
func (c *Cloud) serveClusterCredential(call *armCall, sub, rg, name string, op credentialOp) {
	if call.r.Method != http.MethodPost {
		methodNotAllowed(call)
		return
	}
	id := resourceID(sub, rg, "Microsoft.ContainerService", "managedClusters", name)
	if !c.authorize(call, op.action, id) {
		return
	}
	if _, ok := c.ManagedCluster(id); !ok {
		c.resourceNotFound(call, rg, ManagedClusterType, name)
		return
	}
	a, ok := c.clusterAccessOf(id)
	if !ok {
		// The world declares the cluster but no podid up runs it.
		armError(call.w, http.StatusConflict, "OperationNotAllowed", fmt.Sprintf(
			"The managed cluster '%s' has no running API server in this cloud, so it has no credentials. Start it with podid up, which reports its address and CA to the cloud.", name))
		return
	}
	cfg, status, code, msg := clusterKubeconfig(a, op, call.r.URL.Query().Get("format"))
	if cfg == nil {
		armError(call.w, status, code, msg)
		return
	}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		armError(call.w, http.StatusInternalServerError, "InternalServerError", fmt.Sprintf("encode the kubeconfig of '%s': %v", name, err))
		return
	}
	// []byte is base64 in JSON, as the value is on the wire.
	writeJSON(call.w, http.StatusOK, map[string]any{"kubeconfigs": []map[string]any{{"name": op.name, "value": b}}})
}

// clusterKubeconfig decides the kubeconfig op hands out for cluster
// access a in format, or AKS's refusal as status, code and message.
func clusterKubeconfig(a ClusterAccess, op credentialOp, format string) (cfg *clientcmdapi.Config, status int, code, msg string) {
	if op.admin {
		// az refuses --format with --admin itself; AKS ignores it.
		if !a.LocalAccounts() {
			return nil, http.StatusBadRequest, "BadRequest", signin.LocalAccountsDisabled
		}
		return signin.AdminConfig(a.Cluster, a.AdminCertPEM, a.AdminKeyPEM), 0, "", ""
	}
	switch strings.ToLower(format) {
	case "", credentialFormatExec:
		return signin.UserConfig(a.Cluster, a.User), 0, "", ""
	case credentialFormatAzure:
		return signin.LegacyUserConfig(a.Cluster, a.User.ServerID, a.User.ClientID, a.User.TenantID), 0, "", ""
	default:
		return nil, http.StatusBadRequest, "InvalidParameter", fmt.Sprintf(
			"The value '%s' of parameter 'format' is not valid. Allowed values are '%s' and '%s'.", format, credentialFormatExec, credentialFormatAzure)
	}
}

package plan

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/cloud"
)

// Names and settings of the cluster's Azure AD sign-in, as AKS has them.
const (
	// AdminBindingName is the ClusterRoleBinding AKS creates for
	// --aad-admin-group-object-ids.
	AdminBindingName = "aks-cluster-admin-binding-aad"
	// DefaultClusterName and DefaultClusterGroup name the cluster in
	// kubeconfigs when the world declares no managed cluster.
	DefaultClusterName  = "podid"
	DefaultClusterGroup = "podid"
	// AzureRBACAuthorizedTTL and AzureRBACUnauthorizedTTL are how long
	// kube-apiserver keeps the Azure RBAC webhook's answers. The webhook
	// reads role assignments live, so these bound how long a revoke
	// (authorized) or a grant (unauthorized) takes to apply; AKS documents
	// up to five minutes for its own propagation.
	AzureRBACAuthorizedTTL   = 5 * time.Second
	AzureRBACUnauthorizedTTL = time.Duration(0)
)

// SignInInput are the options of az aks create that podid up mirrors.
type SignInInput struct {
	// AdminGroupObjectIDs are Azure AD groups bound to cluster-admin
	// (--aad-admin-group-object-ids).
	AdminGroupObjectIDs []string
	// DisableLocalAccounts withholds the client-certificate admin
	// kubeconfig from operators (--disable-local-accounts).
	DisableLocalAccounts bool
	// EnableAzureRBAC adds Azure role assignments as an authorizer after
	// Kubernetes RBAC (--enable-azure-rbac).
	EnableAzureRBAC bool
}

// SignIn is how people and service principals sign in to the cluster: the
// kube-apiserver trusts the embedded Azure AD's tokens for the AKS server
// app next to client certificates, as an AKS cluster with managed Azure AD.
type SignIn struct {
	TenantID string `json:"tenantID"`
	// ServerAppID is the tokens' audience; ClientAppID the public client
	// people sign in with.
	ServerAppID string `json:"serverAppID"`
	ClientAppID string `json:"clientAppID"`
	// Cluster names the cluster in kubeconfigs and, with Azure RBAC, is
	// the scope of role assignments.
	Cluster Cluster `json:"cluster"`
	// AuthnConfigFile is kube-apiserver's --authentication-config file.
	AuthnConfigFile string `json:"authenticationConfig"`
	// AdminGroups are bound to cluster-admin by AdminBinding.
	AdminGroups []AdminGroup `json:"adminGroups,omitempty"`
	// LocalAccounts is false under --disable-local-accounts.
	LocalAccounts bool `json:"localAccounts"`
	// AzureRBAC is the authorization webhook; nil unless enabled.
	AzureRBAC *AzureRBAC `json:"azureRBAC,omitempty"`
	// AzureCLIProxy is the HTTPS_PROXY az CLI needs to sign in to the
	// embedded cloud (its authority check asks login.microsoftonline.com,
	// which this proxy alone tunnels to the cloud); podid up sets it once
	// the proxy listens, and it is empty in a plan.
	AzureCLIProxy string `json:"azureCLIProxy,omitempty"`
}

// Cluster is the managed cluster the run stands for.
type Cluster struct {
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	// ID is its ARM resource ID; empty when the world declares none.
	ID string `json:"id,omitempty"`
}

// AdminGroup is a group of --aad-admin-group-object-ids; Name is its
// display name in the world, empty for a group the world does not know.
type AdminGroup struct {
	ObjectID string `json:"objectID"`
	Name     string `json:"name,omitempty"`
}

// AzureRBAC is the Azure RBAC for Kubernetes webhook, run in-process next
// to the embedded cloud whose role assignments it reads.
type AzureRBAC struct {
	// WebhookKubeconfig tells kube-apiserver the webhook's URL and CA.
	WebhookKubeconfig string `json:"webhookKubeconfig"`
	Log               string `json:"log"`
}

// makeSignIn decides the sign-in of a run in tenant tid of st.
func makeSignIn(st cloud.State, tid, run string, in SignInInput) (*SignIn, error) {
	s := &SignIn{
		TenantID: tid, ServerAppID: cloud.AKSServerAppID, ClientAppID: cloud.AKSClientAppID,
		Cluster:         Cluster{Name: DefaultClusterName, ResourceGroup: DefaultClusterGroup},
		AuthnConfigFile: filepath.Join(run, "authentication-config.yaml"),
		LocalAccounts:   !in.DisableLocalAccounts,
	}
	for _, m := range st.ManagedClusters {
		if strings.EqualFold(m.TenantID, tid) {
			s.Cluster = Cluster{Name: m.Name, ResourceGroup: m.ResourceGroup, ID: m.ID}
			break
		}
	}
	for _, id := range in.AdminGroupObjectIDs {
		g, err := adminGroup(st, tid, strings.TrimSpace(id))
		if err != nil {
			return nil, err
		}
		s.AdminGroups = append(s.AdminGroups, g)
	}
	if in.EnableAzureRBAC {
		if s.Cluster.ID == "" {
			return nil, fmt.Errorf("--enable-azure-rbac: the world declares no managed cluster in tenant %s to hold the role assignments; add one under resourceGroups[].managedClusters", tid)
		}
		s.AzureRBAC = &AzureRBAC{WebhookKubeconfig: filepath.Join(run, "azure-rbac-webhook.kubeconfig"), Log: filepath.Join(run, "azure-rbac.log")}
	}
	return s, nil
}

// adminGroup checks one --aad-admin-group-object-ids entry: AKS takes
// object IDs only, which need not be in the world (a group of another
// directory simply never matches).
func adminGroup(st cloud.State, tid, id string) (AdminGroup, error) {
	if _, err := uuid.Parse(id); err != nil {
		var known []string
		for _, g := range st.Groups {
			if strings.EqualFold(g.TenantID, tid) {
				known = append(known, g.Name+" ("+g.ObjectID+")")
			}
		}
		slices.Sort(known)
		return AdminGroup{}, fmt.Errorf("--aad-admin-group-object-ids %q is not a group object ID; the world's groups are %s", id, list(known))
	}
	g := AdminGroup{ObjectID: strings.ToLower(id)}
	for _, x := range st.Groups {
		if strings.EqualFold(x.ObjectID, id) {
			g.Name = x.Name
		}
	}
	return g, nil
}

// Issuer is the iss of the embedded cloud's tokens for the tenant: its v2
// issuer. The cloud signs every token, the AKS server app's included,
// with it, so that is what kube-apiserver must match (real Azure AD puts
// the v1 https://sts.windows.net/<tenant>/ in tokens for v1 resources).
func (s *SignIn) Issuer(cloudURL string) string {
	return strings.TrimSuffix(cloudURL, "/") + "/" + s.TenantID + "/v2.0"
}

// APIServerArgs are the kube-apiserver flags of the sign-in: the
// structured authentication configuration and, with Azure RBAC, the
// webhook authorizer. --authorization-mode is a list and the control
// plane already passes Node,RBAC, so this Webhook comes after RBAC: the
// webhook denies outright, and RoleBindings must be asked first.
func (s *SignIn) APIServerArgs() []string {
	args := []string{"--authentication-config=" + s.AuthnConfigFile}
	if a := s.AzureRBAC; a != nil {
		args = append(args,
			"--authorization-mode=Webhook",
			"--authorization-webhook-config-file="+a.WebhookKubeconfig,
			"--authorization-webhook-version=v1",
			"--authorization-webhook-cache-authorized-ttl="+AzureRBACAuthorizedTTL.String(),
			"--authorization-webhook-cache-unauthorized-ttl="+AzureRBACUnauthorizedTTL.String(),
		)
	}
	return args
}

// AdminBinding binds the admin groups to cluster-admin as AKS does; nil
// without admin groups.
func (s *SignIn) AdminBinding() *rbacv1.ClusterRoleBinding {
	if len(s.AdminGroups) == 0 {
		return nil
	}
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: AdminBindingName, Labels: map[string]string{"kubernetes.azure.com/managedby": "aks"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
	}
	for _, g := range s.AdminGroups {
		b.Subjects = append(b.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: g.ObjectID})
	}
	return b
}

// render prints the sign-in steps of the plan.
func (s *SignIn) render(step func(title, format string, args ...any), d func(format string, args ...any), rt Runtime) {
	step("sign-in", "kube-apiserver trusts Azure AD issuer %s for audience %s (the AKS server app), next to client certificates", s.Issuer(rt.CloudURL), s.ServerAppID)
	d("user name: upn, or the object ID of a service principal; groups: the groups claim; config %s", s.AuthnConfigFile)
	d("cluster %s (resource group %s); podid get-credentials writes a kubeconfig signing in with device code", s.Cluster.Name, s.Cluster.ResourceGroup)
	if a := s.AzureRBAC; a != nil {
		step("azure rbac", "Azure RBAC for Kubernetes (in-process webhook on a free loopback port), asked after Node and RBAC: role assignments at %s and its namespaces", s.Cluster.ID)
		d("kube-apiserver keeps allowed answers %s and denied ones %s; log %s", AzureRBACAuthorizedTTL, AzureRBACUnauthorizedTTL, a.Log)
	}
}

// adminGroupNames lists the admin groups, with their world names.
func (s *SignIn) adminGroupNames() string {
	var out []string
	for _, g := range s.AdminGroups {
		if g.Name != "" {
			out = append(out, "group "+g.Name+" ("+g.ObjectID+")")
		} else {
			out = append(out, "group "+g.ObjectID+" (not in the world)")
		}
	}
	return strings.Join(out, ", ")
}

// renderSignInNext prints how to sign in to the cluster as a person.
func renderSignInNext(b *strings.Builder, r *Record) {
	if r.SignIn == nil {
		return
	}
	user := filepath.Join(r.StateDir, "user.kubeconfig")
	fmt.Fprintf(b, "  podid get-credentials --state-dir %s -f %s   # Azure AD sign-in, like az aks get-credentials\n", r.StateDir, user)
	fmt.Fprintf(b, "  KUBECONFIG=%s kubectl get pods -A   # prints a code; approve it with podid cloud device approve --user UPN --code CODE\n", user)
	renderAzureCLINext(b, r)
}

// AzureCLICloudName is the name podid's hints register the cloud under.
const AzureCLICloudName = "podid"

// AzureCLIRegisterArgs are the arguments of az cloud register for the
// embedded cloud at cloudURL: Resource Manager and Azure AD both at the
// cloud, Azure's resource IDs (the audiences the cloud accepts). With
// every endpoint given, az asks the cloud for no metadata.
func AzureCLIRegisterArgs(cloudURL string) []string {
	return []string{"cloud", "register", "--name", AzureCLICloudName, "--profile", "latest",
		"--endpoint-resource-manager", cloudURL + "/", "--endpoint-active-directory", cloudURL,
		"--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
		"--endpoint-active-directory-graph-resource-id", "https://graph.windows.net/",
		"--endpoint-management", "https://management.core.windows.net/", "--suffix-keyvault-dns", ".vault.azure.net"}
}

// AzureCLIEnv is the environment az CLI needs for the embedded cloud:
// trust its CA, and reach login.microsoftonline.com through proxy while
// talking to the cloud itself directly.
func AzureCLIEnv(caFile, proxy string) []string {
	return []string{"REQUESTS_CA_BUNDLE=" + caFile, "HTTPS_PROXY=" + proxy, "NO_PROXY=127.0.0.1,localhost"}
}

// renderAzureCLINext prints how az CLI signs in and gets the kubeconfig
// of the world's managed cluster.
func renderAzureCLINext(b *strings.Builder, r *Record) {
	s := r.SignIn
	if s.AzureCLIProxy == "" || s.Cluster.ID == "" {
		return
	}
	fmt.Fprintf(b, "  # az CLI: register the cloud, sign in, get the kubeconfig (people need an AKS role, e.g. podid cloud role grant --role %q)\n", "Azure Kubernetes Service Cluster User Role")
	fmt.Fprintf(b, "  export %s\n", strings.Join(AzureCLIEnv(r.CloudCA, s.AzureCLIProxy), " "))
	fmt.Fprintf(b, "  az %s && az cloud set --name %s\n", strings.Join(AzureCLIRegisterArgs(r.CloudURL), " "), AzureCLICloudName)
	fmt.Fprintf(b, "  az login --use-device-code --tenant %s && az aks get-credentials -g %s -n %s\n", s.TenantID, s.Cluster.ResourceGroup, s.Cluster.Name)
}

// TokenCacheDir is where podid get-token keeps people's tokens for the run
// of state folder dir: in the run folder, which the next podid up
// recreates along with the cloud whose tokens they are.
func TokenCacheDir(dir string) string { return filepath.Join(dir, RunDirName, "token-cache") }

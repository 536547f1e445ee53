package signin

import (
	"slices"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Login methods, as kubelogin names them (--login, AAD_LOGIN_METHOD).
const (
	LoginDeviceCode = "devicecode"
	LoginSPN        = "spn"
)

// Exec API versions of the credential plugin protocol.
const (
	ExecV1      = "client.authentication.k8s.io/v1"
	ExecV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// kubeloginInstallHint is az aks get-credentials' installHint.
const kubeloginInstallHint = `kubelogin is not installed which is required to connect to AAD enabled cluster.
To learn more, please go to https://aka.ms/aks/kubelogin
`

// Cluster is what a kubeconfig names and reaches.
type Cluster struct {
	// Name and ResourceGroup are the managed cluster's; they name the
	// kubeconfig's entries as az aks get-credentials names them.
	Name, ResourceGroup string
	// Server is the API server URL; CAPEM the CA of its certificate.
	Server string
	CAPEM  []byte
}

// Exec is the get-token call of an exec entry. Its arguments are
// kubelogin's, which podid get-token also takes, so one entry works with
// either program.
type Exec struct {
	// Command is "kubelogin" or the path of the podid executable.
	Command string
	// Login is LoginDeviceCode or LoginSPN.
	Login string
	// ServerID is the AKS server app (the audience); ClientID the public
	// client people sign in with; TenantID the directory.
	ServerID, ClientID, TenantID string
	// AuthorityHost is the embedded cloud, https://127.0.0.1:<port>/.
	AuthorityHost string
	// CAFile is the cloud's CA, trusted through SSL_CERT_FILE (Go reads it
	// in both programs).
	CAFile string
	// CacheDir keeps the sign-in between runs of the plugin.
	CacheDir string
}

// Args are the plugin's arguments.
func (e Exec) Args() []string {
	args := []string{"get-token", "--login", e.Login, "--server-id", e.ServerID}
	if e.Login != LoginSPN {
		// A service principal brings its own client ID (environment).
		args = append(args, "--client-id", e.ClientID)
	}
	return append(args, "--tenant-id", e.TenantID,
		// --environment only picks a public cloud; --authority-host
		// replaces it, and instance discovery would ask
		// login.microsoftonline.com about a host it cannot know.
		"--environment", "AzurePublicCloud", "--authority-host", e.AuthorityHost, "--disable-instance-discovery",
		"--cache-dir", e.CacheDir)
}

// Config is the exec entry. kubelogin gets az's installHint; both get
// the cloud's CA through SSL_CERT_FILE.
func (e Exec) Config() *clientcmdapi.ExecConfig {
	c := &clientcmdapi.ExecConfig{
		APIVersion: ExecV1, Command: e.Command, Args: e.Args(),
		Env:             []clientcmdapi.ExecEnvVar{{Name: "SSL_CERT_FILE", Value: e.CAFile}},
		InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode,
	}
	if strings.Contains(e.Command, "kubelogin") {
		c.InstallHint = kubeloginInstallHint
	}
	return c
}

// UserContext and AdminContext are the context names az aks
// get-credentials writes; the user entries are clusterUser_<rg>_<name>
// and clusterAdmin_<rg>_<name>.
func (c Cluster) UserContext() string  { return c.Name }
func (c Cluster) AdminContext() string { return c.Name + "-admin" }
func (c Cluster) userName(kind string) string {
	return kind + "_" + c.ResourceGroup + "_" + c.Name
}

// UserConfig is the kubeconfig of az aks get-credentials for an Azure AD
// cluster: one cluster, a user signing in through e, one context.
func UserConfig(c Cluster, e Exec) *clientcmdapi.Config {
	return config(c, c.UserContext(), c.userName("clusterUser"), &clientcmdapi.AuthInfo{Exec: e.Config()})
}

// AdminConfig is the kubeconfig of az aks get-credentials --admin: the
// client certificate of the cluster's local admin account.
func AdminConfig(c Cluster, certPEM, keyPEM []byte) *clientcmdapi.Config {
	return config(c, c.AdminContext(), c.userName("clusterAdmin"), &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM})
}

func config(c Cluster, context, user string, auth *clientcmdapi.AuthInfo) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: slices.Clone(c.CAPEM)}
	cfg.AuthInfos[user] = auth
	cfg.Contexts[context] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: user}
	cfg.CurrentContext = context
	return cfg
}

// Merge copies from's clusters, users and contexts into into, replacing
// entries of the same name, and makes from's context current, as az aks
// get-credentials merges into an existing kubeconfig.
func Merge(into, from *clientcmdapi.Config) {
	for k, v := range from.Clusters {
		into.Clusters[k] = v
	}
	for k, v := range from.AuthInfos {
		into.AuthInfos[k] = v
	}
	for k, v := range from.Contexts {
		into.Contexts[k] = v
	}
	into.CurrentContext = from.CurrentContext
}

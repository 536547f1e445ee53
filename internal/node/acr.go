package node

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	"sigs.k8s.io/yaml"

	"github.com/podid/podid/internal/acrcred"
)

// CredentialProviderName is the name the kubelet knows podid's Azure
// Container Registry credential provider by, AKS's own: the file it runs
// in the plugin folder, a link to the podid executable.
const CredentialProviderName = "acr-credential-provider"

// DefaultCredentialCacheDuration is the kubelet's defaultCacheDuration for
// the provider's answers when ACR.CacheDuration is zero, AKS's value. The
// provider's answers carry their own duration, which the kubelet prefers.
const DefaultCredentialCacheDuration = 10 * time.Minute

// credentialProviderAPIVersion is the exec plugin protocol the kubelet
// speaks with the provider.
const credentialProviderAPIVersion = "credentialprovider.kubelet.k8s.io/v1"

// ACR makes a node pull from the embedded cloud's container registries as
// an AKS node pulls from Azure's: the kubelet runs the ACR credential
// provider (podid acr-credential-provider) with an azure.json naming the
// kubelet identity, which gets its token from the node's IMDS, and
// containerd reaches <name>.azurecr.io through a proxy that sends those
// names to the cloud's front door, trusting the cloud's CA for them.
// Nothing of the machine (its /etc/hosts, its trust store) changes.
type ACR struct {
	// Executable is the podid binary; the node links it into the
	// kubelet's plugin folder as CredentialProviderName.
	Executable string
	// TenantID is the cluster's tenant; KubeletClientID is the client ID
	// of the kubelet identity, azure.json's userAssignedIdentityID.
	TenantID, KubeletClientID string
	// SubscriptionID, ResourceGroup and Location locate the node resource
	// group in azure.json (podid check-acr reads them); optional.
	SubscriptionID, ResourceGroup, Location string
	// IMDSEndpoint is the IMDS of the node's own instance (the embedded
	// cloud's listener for it, http://127.0.0.1:PORT).
	IMDSEndpoint string
	// AuthorityHost is the cloud's Azure AD base URL; a managed-identity
	// node does not need it, so empty leaves the provider's default.
	AuthorityHost string
	// CAFile is the cloud's CA (PEM). The provider trusts it for Azure AD
	// and the registries, containerd for LoginServers.
	CAFile string
	// FrontDoor is the host:port where the cloud serves Azure's host names
	// (Cloud.LoopbackFrontDoor, or ServeAzureNames on a node's :443).
	FrontDoor string
	// FrontDoorNames are the host names, exact or "*." wildcards of one
	// label (cloud.AzureNames), whose connections go to FrontDoor. Other
	// names are dialled as they resolve.
	FrontDoorNames []string
	// LoginServers are the registries (<name>.azurecr.io) containerd
	// trusts CAFile for (ACRRegistryCerts). A registry created later needs
	// TrustRegistry, or containerd does not trust its certificate.
	LoginServers []string
	// CacheDuration is the kubelet's defaultCacheDuration; 0 means
	// DefaultCredentialCacheDuration.
	CacheDuration time.Duration
	// ServicePrincipal, when set, makes the node a service-principal
	// cluster's (az aks create --service-principal): azure.json holds its
	// app ID and secret instead of the managed identity.
	ServicePrincipal *ServicePrincipal
}

func (a *ACR) cacheDuration() time.Duration {
	if a.CacheDuration == 0 {
		return DefaultCredentialCacheDuration
	}
	return a.CacheDuration
}

// Paths of the credential provider inside the node folder.
func (l Layout) credentialProviderConfig() string {
	return filepath.Join(l.Dir, "credential-provider", "config.yaml")
}
func (l Layout) credentialProviderBinDir() string {
	return filepath.Join(l.Dir, "credential-provider", "bin")
}

// AzureJSONFile is the node's azure.json, which the credential provider
// reads and podid check-acr takes as --azure-config.
func (l Layout) AzureJSONFile() string { return filepath.Join(l.Dir, "azure.json") }

// AzureJSON renders the node's azure.json as AKS writes it for a
// managed-identity cluster: the kubelet identity's client ID, the "msi"
// placeholders, the public cloud (whose registry suffix is .azurecr.io).
func AzureJSON(c Config) (string, error) {
	a := c.ACR
	if a == nil {
		return "", fmt.Errorf("render azure.json of node %s: the node has no ACR settings", c.Name)
	}
	cfg := acrcred.AzureConfig{
		Cloud: "AzurePublicCloud", TenantID: a.TenantID,
		AADClientID: "msi", AADClientSecret: "msi",
		UseManagedIdentityExtension: true, UserAssignedIdentityID: a.KubeletClientID,
		SubscriptionID: a.SubscriptionID, ResourceGroup: a.ResourceGroup, Location: a.Location,
	}
	if sp := a.ServicePrincipal; sp != nil {
		cfg = servicePrincipalAzureJSON(cfg, *sp)
	}
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("render azure.json of node %s: %w", c.Name, err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", fmt.Errorf("render azure.json: %w", err)
	}
	return string(b) + "\n", nil
}

// CredentialProviderConfig renders the kubelet's CredentialProviderConfig
// (kubelet.config.k8s.io/v1): one provider, AKS's, for the ACR suffixes.
// The kubelet runs <bin dir>/acr-credential-provider with the arguments
// given here, so the podid it links to sees the subcommand first and the
// azure.json as its argument; the environment aims it at this node's
// IMDS, the cloud's authority and CA, and the front door.
func CredentialProviderConfig(c Config) (string, error) {
	a := c.ACR
	if a == nil {
		return "", fmt.Errorf("render the credential provider config of node %s: the node has no ACR settings", c.Name)
	}
	match := make([]string, 0, len(acrcred.RegistrySuffixes))
	for _, s := range acrcred.RegistrySuffixes {
		match = append(match, "*"+s)
	}
	var env []kubeletconfigv1.ExecEnvVar
	for _, e := range []struct{ name, value string }{
		{acrcred.EnvIMDSEndpoint, a.IMDSEndpoint},
		{acrcred.EnvAuthorityHost, a.AuthorityHost},
		{acrcred.EnvCABundle, a.CAFile},
		{acrcred.EnvFrontDoor, a.FrontDoor},
	} {
		if e.value != "" {
			env = append(env, kubeletconfigv1.ExecEnvVar{Name: e.name, Value: e.value})
		}
	}
	cfg := kubeletconfigv1.CredentialProviderConfig{
		TypeMeta: metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1", Kind: "CredentialProviderConfig"},
		Providers: []kubeletconfigv1.CredentialProvider{{
			Name:                 CredentialProviderName,
			MatchImages:          match,
			DefaultCacheDuration: &metav1.Duration{Duration: a.cacheDuration()},
			APIVersion:           credentialProviderAPIVersion,
			Args:                 []string{CredentialProviderName, c.AzureJSONFile()},
			Env:                  env,
		}},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("render the credential provider config: %w", err)
	}
	return string(b), nil
}

// ACRRegistryCerts says how containerd trusts the cloud's CA for each of
// the ACR's login servers: a link named ca.crt in the host's folder of
// containerd's registry config dir (Docker's certs.d layout, which
// containerd reads when the folder has no hosts.toml) to the CA file, keyed
// by the link's path. Not a hosts.toml: containerd 1.6 as Debian builds it
// ignores a top-level ca, and a [host] table leaves the server as a second
// host without the CA, which then turns the registry's 404 for a wrong tag
// into an x509 error. The connection goes through the front-door proxy
// (containerd's HTTPS_PROXY), so the TLS server name and Host header stay
// the registry's, as the front door routes by them.
func ACRRegistryCerts(c Config) map[string]string {
	out := map[string]string{}
	if c.ACR == nil {
		return out
	}
	for _, host := range c.ACR.LoginServers {
		out[registryCALink(c.Layout, host)] = c.ACR.CAFile
	}
	return out
}

func registryCALink(l Layout, host string) string {
	return filepath.Join(l.registryHosts(), strings.ToLower(host), "ca.crt")
}

// containerdEnv is the environment containerd runs with: with ACR
// settings, HTTPS_PROXY names the front-door proxy at proxyAddr (and
// NO_PROXY is cleared so the machine's cannot bypass it). Plain-HTTP
// registries (podid's loopback one) are never proxied.
func containerdEnv(c Config, proxyAddr string) []string {
	if c.ACR == nil || proxyAddr == "" {
		return nil
	}
	u := "http://" + proxyAddr
	return []string{"HTTPS_PROXY=" + u, "https_proxy=" + u, "NO_PROXY=", "no_proxy="}
}

// kubeletCredentialArgs are the kubelet flags that turn the provider on.
func kubeletCredentialArgs(c Config) []string {
	if c.ACR == nil {
		return nil
	}
	return []string{
		"--image-credential-provider-config=" + c.credentialProviderConfig(),
		"--image-credential-provider-bin-dir=" + c.credentialProviderBinDir(),
	}
}

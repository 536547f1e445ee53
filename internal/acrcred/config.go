package acrcred

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultAzureConfigPath is where AKS writes the node's azure.json.
const DefaultAzureConfigPath = "/etc/kubernetes/azure.json"

// msiPlaceholder is what AKS writes as aadClientId and aadClientSecret on
// managed-identity clusters; canipull detects managed identity by it.
const msiPlaceholder = "msi"

// AzureConfig is the part of a node's azure.json the provider reads.
type AzureConfig struct {
	// Cloud names the Azure environment: AzurePublicCloud (default),
	// AzureChinaCloud, AzureUSGovernmentCloud, AzureGermanCloud.
	Cloud string `json:"cloud"`
	// TenantID is the Azure AD tenant; sent with the exchange.
	TenantID string `json:"tenantId"`
	// AADClientID and AADClientSecret are a service principal's app ID and
	// secret; "msi" for both on managed-identity clusters.
	AADClientID     string `json:"aadClientId"`
	AADClientSecret string `json:"aadClientSecret"`
	// UseManagedIdentityExtension selects the node's IMDS.
	UseManagedIdentityExtension bool `json:"useManagedIdentityExtension"`
	// UserAssignedIdentityID is the kubelet identity's client ID, or its
	// resource ID when it contains /subscriptions/.
	UserAssignedIdentityID string `json:"userAssignedIdentityID"`
	// Location is the cluster's region (check-acr compares it).
	Location string `json:"location"`
	// SubscriptionID and ResourceGroup locate the node resource group.
	SubscriptionID string `json:"subscriptionId"`
	ResourceGroup  string `json:"resourceGroup"`
}

// ManagedIdentity reports whether the node uses its managed identity: the
// plugin's test (useManagedIdentityExtension) or canipull's ("msi" for
// both client ID and secret).
func (c AzureConfig) ManagedIdentity() bool {
	return c.UseManagedIdentityExtension || (c.AADClientID == msiPlaceholder && c.AADClientSecret == msiPlaceholder)
}

// IdentityResourceID is the kubelet identity's resource ID when
// userAssignedIdentityID holds one, else empty.
func (c AzureConfig) IdentityResourceID() string {
	if strings.Contains(strings.ToUpper(c.UserAssignedIdentityID), "/SUBSCRIPTIONS/") {
		return c.UserAssignedIdentityID
	}
	return ""
}

// Describe names the node's identity in one phrase (no secret).
func (c AzureConfig) Describe() string {
	if c.ManagedIdentity() {
		if c.IdentityResourceID() != "" {
			return "managed identity " + c.UserAssignedIdentityID
		}
		return "managed identity with client ID " + c.UserAssignedIdentityID
	}
	return "service principal with app ID " + c.AADClientID
}

// Validate says what is missing for the chosen credential and how to fix it.
func (c AzureConfig) Validate() error {
	if _, err := EnvironmentOf(c.Cloud); err != nil {
		return err
	}
	if c.ManagedIdentity() {
		if c.UserAssignedIdentityID == "" {
			return errors.New("azure.json: useManagedIdentityExtension is true but userAssignedIdentityID is empty; set it to the kubelet identity's client ID (az aks show --query identityProfile.kubeletidentity.clientId)")
		}
		return nil
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"tenantId", c.TenantID}, {"aadClientId", c.AADClientID}, {"aadClientSecret", c.AADClientSecret}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("azure.json: a service principal node needs %s; set them, or set useManagedIdentityExtension and userAssignedIdentityID for the kubelet's managed identity", strings.Join(missing, ", "))
	}
	return nil
}

// ParseAzureConfig decodes an azure.json body.
func ParseAzureConfig(b []byte) (AzureConfig, error) {
	var c AzureConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return AzureConfig{}, fmt.Errorf("decode azure.json: %w", err)
	}
	return c, c.Validate()
}

// LoadAzureConfig reads and validates the azure.json at path.
func LoadAzureConfig(path string) (AzureConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return AzureConfig{}, fmt.Errorf("read azure.json: %w (is this an Azure node? name the file with --azure-config)", err)
	}
	c, err := ParseAzureConfig(b)
	if err != nil {
		return AzureConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Environment is what the provider needs to know about an Azure cloud.
type Environment struct {
	// Name is the azure.json cloud value.
	Name string
	// AuthorityHost is Azure AD's base URL.
	AuthorityHost string
	// RegistrySuffix is the registry domain, such as ".azurecr.io".
	RegistrySuffix string
}

var environments = []Environment{
	{Name: "AzurePublicCloud", AuthorityHost: "https://login.microsoftonline.com/", RegistrySuffix: ".azurecr.io"},
	{Name: "AzureChinaCloud", AuthorityHost: "https://login.chinacloudapi.cn/", RegistrySuffix: ".azurecr.cn"},
	{Name: "AzureUSGovernmentCloud", AuthorityHost: "https://login.microsoftonline.us/", RegistrySuffix: ".azurecr.us"},
	{Name: "AzureGermanCloud", AuthorityHost: "https://login.microsoftonline.de/", RegistrySuffix: ".azurecr.de"},
}

// EnvironmentOf finds the environment named by azure.json's cloud value
// (case-insensitive; empty is the public cloud).
func EnvironmentOf(name string) (Environment, error) {
	if name == "" {
		return environments[0], nil
	}
	var names []string
	for _, e := range environments {
		if strings.EqualFold(e.Name, name) {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Environment{}, fmt.Errorf("azure.json: unknown Azure cloud name %q; use one of %s", name, strings.Join(names, ", "))
}

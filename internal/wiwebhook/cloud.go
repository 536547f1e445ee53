package wiwebhook

import (
	"fmt"
	"strings"
)

// authorityHosts are the Azure AD endpoints of the clouds v1.6 knows by
// AZURE_ENVIRONMENT name (go-autorest's ActiveDirectoryEndpoint), keyed
// in upper case: v1.6 matches names case-insensitively.
var authorityHosts = map[string]string{
	"AZUREPUBLICCLOUD":       "https://login.microsoftonline.com/",
	"AZURECLOUD":             "https://login.microsoftonline.com/",
	"AZURECHINACLOUD":        "https://login.chinacloudapi.cn/",
	"AZUREUSGOVERNMENTCLOUD": "https://login.microsoftonline.us/",
	"AZUREUSGOVERNMENT":      "https://login.microsoftonline.us/",
	"AZUREGERMANCLOUD":       "https://login.microsoftonline.de/",
}

// AuthorityHostFor returns AZURE_AUTHORITY_HOST for an AZURE_ENVIRONMENT
// cloud name; empty means the public cloud.
func AuthorityHostFor(cloud string) (string, error) {
	if cloud == "" {
		return DefaultAuthorityHost, nil
	}
	if h, ok := authorityHosts[strings.ToUpper(cloud)]; ok {
		return h, nil
	}
	return "", fmt.Errorf("unknown cloud %q: want AzurePublicCloud, AzureChinaCloud, AzureUSGovernmentCloud or AzureGermanCloud, or give the authority host itself", cloud)
}

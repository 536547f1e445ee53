package cloud

import (
	"context"
	"net"
	"net/http"
	"strings"
)

// Azure's public host names. An unmodified application in a pod of a real
// node dials these on port 443; the cluster DNS (package clusterdns) resolves
// them to the node IP, where the front door (ServeAzureNames) answers them.
const (
	// AzureADHost is the Azure AD authority host of Azure's public cloud, the
	// default of azidentity and MSAL.
	AzureADHost = "login.microsoftonline.com"
	// ARMHost is the Resource Manager host of Azure's public cloud.
	ARMHost = "management.azure.com"
	// VaultDomain is the zone holding every Key Vault: <vault>.vault.azure.net.
	VaultDomain = "vault.azure.net"
	// RegistryDomain is the zone of container registries: <registry>.azurecr.io,
	// served by the front door (registry_serve.go).
	RegistryDomain = "azurecr.io"
)

// AzureNames are the names, exact or "*." wildcards of one label, that the
// front door's certificate covers. The cluster DNS resolves the same list to
// the front door's address, so the two cannot drift apart.
func AzureNames() []string {
	return []string{AzureADHost, ARMHost, "*." + VaultDomain, "*." + RegistryDomain}
}

// azureService is the service behind one of Azure's host names.
type azureService int

const (
	serviceUnknown azureService = iota
	serviceAAD
	serviceARM
	serviceVault
	serviceRegistry
)

// azureRoute is where a host name leads: a service and, for per-resource
// zones (vaults, registries), the resource's name as the host spells it.
type azureRoute struct {
	service azureService
	name    string
}

// routeAzureHost maps a request's Host header or a TLS server name to the
// service behind it. Host names are case-insensitive and may carry a port or
// a trailing dot (a fully qualified name); a vault or registry is exactly one
// label under its zone, as in Azure, where "a.b.vault.azure.net" is no vault.
func routeAzureHost(hostport string) azureRoute {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	switch host {
	case AzureADHost:
		return azureRoute{service: serviceAAD}
	case ARMHost:
		return azureRoute{service: serviceARM}
	}
	for _, z := range []struct {
		zone    string
		service azureService
	}{{VaultDomain, serviceVault}, {RegistryDomain, serviceRegistry}} {
		label, ok := strings.CutSuffix(host, "."+z.zone)
		if ok && label != "" && !strings.Contains(label, ".") {
			return azureRoute{service: z.service, name: label}
		}
	}
	return azureRoute{}
}

// servesServerName reports whether the front door completes a TLS handshake
// for SNI name. An empty name (a client that dialed an IP address) is let
// through so that it gets a 404 naming its Host rather than a bare TLS alert.
func servesServerName(name string) bool {
	return name == "" || routeAzureHost(name).service != serviceUnknown
}

// viaAzureNamesKey marks a request that arrived through the front door.
type viaAzureNamesKey struct{}

func withAzureNames(ctx context.Context) context.Context {
	return context.WithValue(ctx, viaAzureNamesKey{}, true)
}

// authorityBase is the Azure AD authority (scheme and host, no slash) that
// URLs handed to the client of r must name. A client that came through the
// front door signed in at login.microsoftonline.com, and MSAL refuses OIDC
// metadata whose issuer names another host; Key Vault's challenge and ARM's
// authorization_uri must send it back to the same host, not to the cloud's
// loopback address, which a pod cannot reach. Every other client gets the
// cloud's base URL, as before.
func (c *Cloud) authorityBase(r *http.Request) string {
	if via, _ := r.Context().Value(viaAzureNamesKey{}).(bool); via {
		return "https://" + AzureADHost
	}
	return c.baseURL
}

package cloud

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// instanceDiscoveryPath is Azure AD's instance discovery endpoint under the
// "common" tenant: MSAL asks it whether an authority host is a valid Azure
// AD instance before it trusts the host's OpenID configuration.
const instanceDiscoveryPath = "discovery/instance"

// serveInstanceDiscovery answers GET /common/discovery/instance?
// authorization_endpoint=https://<host>/<tenant>/oauth2/v2.0/authorize as
// Azure AD does for a host it knows: where the tenant's OpenID
// configuration is, and the hosts' aliases. The cloud knows itself: the
// loopback names its certificate covers, the host it was started on, and
// login.microsoftonline.com, which its front door serves.
// MSAL for Python drops the port when it builds the endpoint, so the
// answer puts the cloud's port back. Any other host is Azure AD's
// invalid_instance (AADSTS50049), which MSAL turns into "The authority you
// provided ... is not whitelisted".
func (c *Cloud) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts GET, OPTIONS requests. Received a %s request.", r.Method))
		return
	}
	ep := r.URL.Query().Get("authorization_endpoint")
	if ep == "" {
		c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'authorization_endpoint'."))
		return
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "https" || !c.isOwnHost(u.Hostname()) {
		c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."))
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if tenant == "" {
		tenant = "common"
	}
	host := u.Hostname()
	if routeAzureHost(host).service != serviceAAD {
		// The loopback listener: put back the port MSAL dropped.
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(c.baseURL, "https://"))
		host = net.JoinHostPort(host, port)
	}
	doc := ".well-known/openid-configuration"
	if strings.Contains(u.Path, "/oauth2/v2.0/") {
		doc = "v2.0/" + doc
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": "https://" + host + "/" + tenant + "/" + doc,
		"api-version":               "1.1",
		"metadata":                  c.instanceMetadata(),
	})
}

// instanceMetadata are the alias groups of the hosts the cloud answers
// as. MSAL for Python asks for them with login.microsoftonline.com's
// authorize endpoint whatever its authority, and matches a cached
// account's environment (a host name, no port) against them. Each host
// is its own group: the cloud's names are not aliases of one another the
// way login.windows.net is of login.microsoftonline.com.
func (c *Cloud) instanceMetadata() []map[string]any {
	own, _, _ := net.SplitHostPort(strings.TrimPrefix(c.baseURL, "https://"))
	hosts := []string{AzureADHost, "localhost", "127.0.0.1"}
	if own != "" && own != "127.0.0.1" {
		hosts = append(hosts, own)
	}
	out := make([]map[string]any, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, map[string]any{"preferred_network": h, "preferred_cache": h, "aliases": []string{h}})
	}
	return out
}

// isOwnHost reports whether host names this cloud's main listener: a
// loopback name or address, or the host it listens on.
func (c *Cloud) isOwnHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || routeAzureHost(h).service == serviceAAD {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	own, _, _ := net.SplitHostPort(strings.TrimPrefix(c.baseURL, "https://"))
	return h == strings.ToLower(own)
}

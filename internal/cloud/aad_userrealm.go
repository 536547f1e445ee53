package cloud

import (
	"net/http"
	"net/url"
	"strings"
)

// userRealmPrefix starts the path of Azure AD's home realm discovery,
// GET /common/UserRealm/{upn}?api-version=1.0, which MSAL calls before a
// password sign-in to learn whether the domain is managed or federated.
const userRealmPrefix = "userrealm/"

// serveUserRealm answers home realm discovery: "Managed" for a domain some
// user of the directory has, "Unknown" (without a domain name, which MSAL
// refuses) for any other.
func (c *Cloud) serveUserRealm(w http.ResponseWriter, r *http.Request, rest string) {
	name, err := url.PathUnescape(rest[len(userRealmPrefix):])
	if err != nil {
		name = rest[len(userRealmPrefix):]
	}
	body := map[string]string{"ver": "1.0", "account_type": "Unknown", "cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline"}
	if _, domain, ok := strings.Cut(name, "@"); ok {
		c.store.mu.Lock()
		known := c.store.knownDomainLocked(domain)
		c.store.mu.Unlock()
		if known {
			body["account_type"], body["domain_name"] = "Managed", strings.ToLower(domain)
		}
	}
	writeJSON(w, http.StatusOK, body)
}

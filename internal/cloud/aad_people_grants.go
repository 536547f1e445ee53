package cloud

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deviceCodeGrantTypes are the two spellings of the device code grant:
// RFC 8628's URN and MSAL's short form.
var deviceCodeGrantTypes = []string{"urn:ietf:params:oauth:grant-type:device_code", "device_code"}

// servePersonGrant answers the token endpoint's grants for people (device
// code, resource owner password, refresh token) and reports whether the
// request was one of them; other grants are left to the caller.
func (c *Cloud) servePersonGrant(w http.ResponseWriter, r *http.Request, tenant Tenant, f url.Values) bool {
	switch gt := f.Get("grant_type"); {
	case gt == deviceCodeGrantTypes[0] || gt == deviceCodeGrantTypes[1]:
		c.serveDeviceCodeGrant(w, r, tenant, f)
	case gt == "password":
		c.servePasswordGrant(w, r, tenant, f)
	case gt == "refresh_token":
		c.serveRefreshGrant(w, r, tenant, f)
	default:
		return false
	}
	return true
}

// refuse logs and writes a refusal; user names and codes stay out of the log.
func (c *Cloud) refuse(w http.ResponseWriter, r *http.Request, tenant Tenant, grant string, e *aadError) {
	c.log.Info("token request refused", "tenant", tenant.ID, "client", r.PostForm.Get("client_id"), "grant", grant, "code", e.code)
	c.writeAADError(w, r, e)
}

// servePasswordGrant is the resource owner password credentials grant.
func (c *Cloud) servePasswordGrant(w http.ResponseWriter, r *http.Request, tenant Tenant, f url.Values) {
	if aerr := c.checkPersonClient(tenant.ID, f); aerr != nil {
		c.refuse(w, r, tenant, "password", aerr)
		return
	}
	scope, aerr := parseDelegatedScope(f.Get("scope"))
	for _, p := range []string{"username", "password"} {
		if aerr == nil && f.Get(p) == "" {
			aerr = errMissingParam(p)
		}
	}
	if aerr != nil {
		c.refuse(w, r, tenant, "password", aerr)
		return
	}
	u, aerr := c.checkUser(tenant.ID, f.Get("username"), f.Get("password"), true)
	if aerr != nil {
		c.refuse(w, r, tenant, "password", aerr)
		return
	}
	c.issuePersonTokens(w, r, personSignIn{user: u, clientID: f.Get("client_id"), scope: scope, nonce: f.Get("nonce"), clientInfo: f.Get("client_info") == "1"})
}

// serveRefreshGrant redeems a refresh token for the client it was issued
// to, for any resource the person may get tokens for.
func (c *Cloud) serveRefreshGrant(w http.ResponseWriter, r *http.Request, tenant Tenant, f url.Values) {
	if aerr := c.checkPersonClient(tenant.ID, f); aerr != nil {
		c.refuse(w, r, tenant, "refresh_token", aerr)
		return
	}
	scope, aerr := parseDelegatedScope(f.Get("scope"))
	if aerr == nil && f.Get("refresh_token") == "" {
		aerr = errMissingParam("refresh_token")
	}
	if aerr != nil {
		c.refuse(w, r, tenant, "refresh_token", aerr)
		return
	}
	u, aerr := c.redeemRefreshToken(tenant.ID, f.Get("client_id"), f.Get("refresh_token"))
	if aerr != nil {
		c.refuse(w, r, tenant, "refresh_token", aerr)
		return
	}
	c.issuePersonTokens(w, r, personSignIn{user: u, clientID: f.Get("client_id"), scope: scope, clientInfo: f.Get("client_info") == "1"})
}

// redeemRefreshToken returns the person a refresh token signs in, refusing
// tokens the cloud did not issue, issued to another client or tenant,
// unused for too long, or of users since deleted or disabled.
func (c *Cloud) redeemRefreshToken(tenant, clientID, tok string) (User, *aadError) {
	g, ok := c.refreshTokens().open(tok)
	if !ok {
		return User{}, errMalformedGrant()
	}
	if !strings.EqualFold(g.ClientID, clientID) || !strings.EqualFold(g.TenantID, tenant) {
		return User{}, errBadGrant()
	}
	issued := time.Unix(g.Issued, 0)
	if idle := c.now().Sub(issued); idle > refreshTokenIdle {
		return User{}, errRefreshExpired(issued, idle)
	}
	c.store.mu.Lock()
	u := c.store.userByObjectLocked(tenant, g.ObjectID)
	var cp User
	if u != nil {
		cp = *u
	}
	c.store.mu.Unlock()
	switch {
	case u == nil:
		return User{}, errUserNotFound(tenant)
	case cp.Disabled:
		return User{}, errUserDisabled()
	}
	return cp, nil
}

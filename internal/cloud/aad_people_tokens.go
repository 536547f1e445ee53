package cloud

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// personSignIn is a person signed in to a client, about to get tokens.
type personSignIn struct {
	user     User
	clientID string
	scope    delegatedScope
	// nonce is echoed in the ID token when the client sent one.
	nonce string
	// clientInfo is set when the client asked for client_info=1.
	clientInfo bool
}

// personTokens is the token endpoint's answer to a person's sign-in.
type personTokens struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// pairwiseSub is the "sub" Azure AD gives a person for one audience: stable
// for that audience, different for every other.
func pairwiseSub(objectID, audience string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(objectID) + "|" + strings.ToLower(audience)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// clientInfoValue is MSAL's client_info: base64url JSON of the home
// account (user object ID and tenant ID).
func clientInfoValue(objectID, tenantID string) string {
	b, _ := json.Marshal(map[string]string{"uid": objectID, "utid": tenantID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// issuePersonTokens answers a successful sign-in with an access token for
// the requested resource, and an ID token, refresh token and client_info
// when the request asked for them.
//
// The access token's audience is the resource as the scope named it: for
// "6dae42f8-.../.default" the AKS server app's ID, which is what an AKS API
// server checks (a v2 request never gets the "spn:" audience of ADAL's v1
// resource parameter). It carries upn, unique_name and scp as the AKS
// server app's tokens do, and groups (or the overage indicator) when the
// API asks for group claims. The issuer is the cloud's one v2 issuer, the
// same as every other token it signs, so one OIDC configuration of a
// kube-apiserver accepts them.
func (c *Cloud) issuePersonTokens(w http.ResponseWriter, r *http.Request, s personSignIn) {
	tid := s.user.TenantID
	if s.scope.resource == "" {
		s.scope.resource, s.scope.names = graphAppID, []string{"User.Read"}
	}
	c.store.mu.Lock()
	res, ok := c.store.resourceLocked(tid, s.scope.resource)
	var groups []string
	if ok && res.groups {
		groups = c.store.groupsOfLocked(tid, s.user.ObjectID)
	}
	clientName := c.store.clientDisplayNameLocked(tid, s.clientID)
	c.store.mu.Unlock()
	if !ok {
		c.writeAADError(w, r, errResourceNotFound(s.scope.resource, tid))
		return
	}
	scp, echo, aerr := s.scope.grant(res, clientName)
	if aerr != nil {
		c.writeAADError(w, r, aerr)
		return
	}
	now := c.now().Truncate(time.Second)
	exp := now.Add(aadTokenLifetime)
	aud := res.id
	if _, err := uuid.Parse(aud); err == nil {
		aud = strings.ToLower(aud)
	}
	at := jwt.MapClaims{
		"aud": aud, "iss": c.issuer(tid), "iat": now.Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": exp.Unix(),
		"acr": "1", "amr": []string{"pwd"}, "appid": s.clientID, "appidacr": "0", "azp": s.clientID, "azpacr": "0",
		"name": s.user.DisplayName, "oid": s.user.ObjectID, "scp": scp, "sub": pairwiseSub(s.user.ObjectID, aud), "tid": tid,
		"unique_name": s.user.UPN, "upn": s.user.UPN, "uti": uuid.NewString(), "ver": "2.0",
	}
	for k, v := range groupClaims(tid, s.user.ObjectID, groups) {
		at[k] = v
	}
	out := personTokens{TokenType: "Bearer", Scope: echo, ExpiresIn: int(aadTokenLifetime.Seconds()) - 1, ExtExpiresIn: int(aadTokenLifetime.Seconds()) - 1}
	var err error
	if out.AccessToken, err = c.sign(at); err != nil {
		c.writeAADError(w, r, errTransient())
		return
	}
	if s.scope.openID {
		id := jwt.MapClaims{
			"aud": s.clientID, "iss": c.issuer(tid), "iat": now.Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": exp.Unix(),
			"name": s.user.DisplayName, "oid": s.user.ObjectID, "preferred_username": s.user.UPN,
			"sub": pairwiseSub(s.user.ObjectID, s.clientID), "tid": tid, "uti": uuid.NewString(), "ver": "2.0",
		}
		if s.nonce != "" {
			id["nonce"] = s.nonce
		}
		if out.IDToken, err = c.sign(id); err != nil {
			c.writeAADError(w, r, errTransient())
			return
		}
	}
	if s.scope.offline {
		out.RefreshToken = c.refreshTokens().seal(refreshGrant{TenantID: tid, ObjectID: s.user.ObjectID, ClientID: strings.ToLower(s.clientID), Issued: now.Unix()})
	}
	if s.clientInfo {
		out.ClientInfo = clientInfoValue(s.user.ObjectID, tid)
	}
	c.metrics.tokens.WithLabelValues("aad").Inc()
	c.log.Info("token issued", "tenant", tid, "client", s.clientID, "resource", res.id, "user", s.user.ObjectID, "groups", len(groups))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

func errTransient() *aadError {
	return newAADError(http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again.")
}

// sign signs claims with the cloud's token key.
func (c *Cloud) sign(claims jwt.MapClaims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = c.pki.kid
	s, err := tok.SignedString(c.pki.signKey)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// checkDelegatedScope refuses, before anyone signs in, a scope naming an
// API the tenant does not have or a permission the API does not expose.
func (c *Cloud) checkDelegatedScope(tenant, clientID string, d delegatedScope) *aadError {
	if d.resource == "" {
		return nil
	}
	c.store.mu.Lock()
	res, ok := c.store.resourceLocked(tenant, d.resource)
	clientName := c.store.clientDisplayNameLocked(tenant, clientID)
	c.store.mu.Unlock()
	if !ok {
		return errResourceNotFound(d.resource, tenant)
	}
	_, _, aerr := d.grant(res, clientName)
	return aerr
}

// appGroupClaims are the group claims of a service principal's or managed
// identity's token for aud, when aud is an API that asks for them.
func (c *Cloud) appGroupClaims(p Principal, aud string) map[string]any {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	res, ok := c.store.resourceLocked(p.TenantID, aud)
	if !ok || !res.groups {
		return nil
	}
	return groupClaims(p.TenantID, p.ObjectID, c.store.groupsOfLocked(p.TenantID, p.ObjectID))
}

// clientDisplayNameLocked names a client in refusals: its display name, or
// its ID when it has none.
func (s *store) clientDisplayNameLocked(tenant, clientID string) string {
	if p, ok := firstPartyPublicClient(clientID); ok {
		return p.name
	}
	if a := s.appLocked(tenant, clientID); a != nil {
		return a.Name
	}
	return clientID
}

// checkPersonClient admits a client to a person's sign-in flow: a
// first-party public client as is, an application of tenant only with its
// client secret (Azure AD's answer to a confidential client that sends
// none). Unknown clients are AADSTS700016.
func (c *Cloud) checkPersonClient(tenant string, f url.Values) *aadError {
	clientID := f.Get("client_id")
	if clientID == "" {
		return errMissingParam("client_id")
	}
	if _, ok := firstPartyPublicClient(clientID); ok {
		return nil
	}
	c.store.mu.Lock()
	_, app, ok := c.store.principalByClientLocked(tenant, clientID)
	var secrets []PasswordCredential
	if app != nil {
		secrets = append(secrets, app.Secrets...)
	}
	c.store.mu.Unlock()
	switch {
	case !ok:
		return errAppNotFound(clientID, tenant)
	case f.Get("client_secret") == "":
		return errNeedsClientSecret()
	default:
		return c.checkSecret(clientID, f.Get("client_secret"), secrets)
	}
}

// checkUser is the directory's verdict on a person signing in to tenant:
// the user exists there, is enabled and, when checkPassword is set, knows
// the password.
func (c *Cloud) checkUser(tenant, upn, password string, checkPassword bool) (User, *aadError) {
	c.store.mu.Lock()
	u := c.store.userByUPNLocked(upn)
	var cp User
	if u != nil {
		cp = *u
	}
	c.store.mu.Unlock()
	switch {
	case u == nil || !strings.EqualFold(cp.TenantID, tenant):
		return User{}, errUserNotFound(tenant)
	case checkPassword && !constantTimeEqual(cp.Password, password):
		return User{}, errBadPassword()
	case cp.Disabled:
		return User{}, errUserDisabled()
	}
	return cp, nil
}

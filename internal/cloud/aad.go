package cloud

import (
	"crypto/subtle"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
)

const jwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// serveAAD routes /{tenant}/... Azure AD endpoints.
func (c *Cloud) serveAAD(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if len(parts) != 2 {
		http.NotFound(w, r)
		return
	}
	tenantRef, rest := parts[0], parts[1]
	if strings.EqualFold(tenantRef, "common") && rest == instanceDiscoveryPath {
		c.serveInstanceDiscovery(w, r)
		return
	}
	if strings.EqualFold(tenantRef, "common") && strings.HasPrefix(strings.ToLower(rest), userRealmPrefix) {
		c.serveUserRealm(w, r, rest)
		return
	}
	c.store.mu.Lock()
	tenant, ok := c.store.tenantLocked(tenantRef)
	c.store.mu.Unlock()
	switch rest {
	case "v2.0/.well-known/openid-configuration", ".well-known/openid-configuration":
		if !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_tenant", "error_description": errTenantNotFound(tenantRef).Error()})
			return
		}
		c.serveDiscovery(w, r, tenant)
	case "discovery/v2.0/keys", "discovery/keys":
		c.serveJWKS(w)
	case "oauth2/v2.0/devicecode":
		if r.Method != http.MethodPost {
			c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
			return
		}
		if !ok {
			c.writeAADError(w, r, errTenantNotFound(tenantRef))
			return
		}
		c.serveDeviceCode(w, r, tenant)
	case "oauth2/v2.0/token":
		if r.Method != http.MethodPost {
			c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
			return
		}
		if !ok {
			c.writeAADError(w, r, errTenantNotFound(tenantRef))
			return
		}
		c.serveToken(w, r, tenant, tenantRef)
	default:
		http.NotFound(w, r)
	}
}

func (c *Cloud) serveDiscovery(w http.ResponseWriter, r *http.Request, t Tenant) {
	base := c.authorityBase(r) + "/" + t.ID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "podid.local",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
	})
}

func (c *Cloud) serveJWKS(w http.ResponseWriter) {
	pub := c.pki.signKey.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": c.pki.kid, "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// resourceFromScope returns the resource of the single "<resource>/.default"
// scope, allowing MSAL's extra openid/offline_access/profile scopes.
func resourceFromScope(scope string) (string, *aadError) {
	var resource string
	for _, s := range strings.Fields(scope) {
		switch {
		case s == "openid" || s == "offline_access" || s == "profile":
		case strings.HasSuffix(s, "/.default") && resource == "":
			resource = strings.TrimSuffix(s, "/.default")
		default:
			return "", newAADError(http.StatusBadRequest, "invalid_scope", 1002012,
				"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", s)
		}
	}
	if resource == "" {
		return "", newAADError(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
	}
	return resource, nil
}

func (c *Cloud) serveToken(w http.ResponseWriter, r *http.Request, tenant Tenant, tenantRef string) {
	if err := r.ParseForm(); err != nil {
		c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."))
		return
	}
	f := r.PostForm
	if c.servePersonGrant(w, r, tenant, f) {
		return
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."))
			return
		}
		c.writeAADError(w, r, newAADError(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", gt))
		return
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		c.writeAADError(w, r, newAADError(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."))
		return
	}
	resource, aerr := resourceFromScope(f.Get("scope"))
	if aerr != nil {
		c.writeAADError(w, r, aerr)
		return
	}
	c.store.mu.Lock()
	principal, app, ok := c.store.principalByClientLocked(tenant.ID, clientID)
	var secrets []PasswordCredential
	var certs []CertificateCredential
	if app != nil {
		secrets = append(secrets, app.Secrets...)
		certs = append(certs, app.Certificates...)
	}
	c.store.mu.Unlock()
	if !ok {
		c.writeAADError(w, r, errAppNotFound(clientID, tenant.ID))
		return
	}
	acr := "2"
	switch {
	case f.Get("client_secret") != "":
		acr = "1"
		aerr = c.checkSecret(clientID, f.Get("client_secret"), secrets)
	case f.Get("client_assertion") != "":
		if f.Get("client_assertion_type") != jwtBearerType {
			aerr = newAADError(http.StatusBadRequest, "invalid_request", 50027, "Invalid client_assertion_type '%s'.", f.Get("client_assertion_type"))
			break
		}
		endpoints := []string{c.authorityBase(r) + "/" + tenant.ID + "/oauth2/v2.0/token", c.authorityBase(r) + "/" + tenantRef + "/oauth2/v2.0/token"}
		aerr = c.checkAssertion(r.Context(), f.Get("client_assertion"), principal, certs, endpoints)
	default:
		aerr = errMissingCredential()
	}
	if aerr != nil {
		c.log.Info("token request refused", "tenant", tenant.ID, "client", clientID, "code", aerr.code)
		c.writeAADError(w, r, aerr)
		return
	}
	tok, _, err := c.issueToken(principal, resource, acr, aadTokenLifetime)
	if err != nil {
		c.writeAADError(w, r, newAADError(http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again."))
		return
	}
	c.metrics.tokens.WithLabelValues("aad").Inc()
	c.log.Info("token issued", "tenant", tenant.ID, "client", clientID, "resource", resource)
	life := int(aadTokenLifetime.Seconds()) - 1
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": tok})
}

func (c *Cloud) checkSecret(clientID, secret string, creds []PasswordCredential) *aadError {
	if len(creds) == 0 {
		return errInvalidSecret(clientID)
	}
	for _, s := range creds {
		if subtle.ConstantTimeCompare([]byte(s.Value), []byte(secret)) == 1 {
			if !s.EndDate.IsZero() && !c.now().Before(s.EndDate) {
				return errExpiredSecret(clientID)
			}
			return nil
		}
	}
	return errInvalidSecret(clientID)
}

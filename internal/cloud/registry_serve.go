package cloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/podid/podid/internal/cloud/acr"
)

// The registry data plane: ACR's token protocol (challenge, /oauth2/exchange,
// /oauth2/token) and error bodies in front of each registry's OCI content
// (registry_storage.go). The front door (ServeAzureNames) routes
// <name>.azurecr.io here. The pure decisions live in package acr.

// registryView is what one request needs to know about its registry.
type registryView struct {
	name, loginServer, tenant, id string
	mode                          acr.Mode
	network                       acr.Network
	anonymousPull, armDisabled    bool
}

func (c *Cloud) registryViewOf(name string) (registryView, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	r := c.store.registryLocked(name)
	if r == nil {
		return registryView{}, false
	}
	mode := acr.ModeRBAC
	if r.RoleAssignmentMode == RoleModeABAC {
		mode = acr.ModeABAC
	}
	return registryView{name: r.Name, loginServer: r.LoginServer(), tenant: r.TenantID, id: r.ID, mode: mode,
		network:       acr.Network{PublicNetworkAccess: r.PublicNetworkAccess, DefaultAction: r.DefaultAction, IPRules: append([]string(nil), r.IPRules...)},
		anonymousPull: r.AnonymousPullEnabled, armDisabled: r.ARMTokensDisabled}, true
}

// registryHandler serves the registry called name (the host's first label).
func (c *Cloud) registryHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg, ok := c.registryViewOf(name)
		if !ok {
			armError(w, http.StatusNotFound, "HostNotFound", fmt.Sprintf(
				"No registry named '%s' exists in this cloud, so host '%s' has nothing behind it. Create the registry in the world file or through Resource Manager.", name, r.Host))
			return
		}
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		w.Header().Set("X-Ms-Correlation-Request-Id", uuid.NewString())
		switch p := r.URL.Path; {
		case p == "/oauth2/exchange":
			c.serveACRExchange(w, r, reg)
		case p == "/oauth2/token":
			c.serveACRToken(w, r, reg)
		case p == "/v2" || strings.HasPrefix(p, "/v2/"):
			c.serveV2(w, r, reg)
		default:
			http.NotFound(w, r)
		}
	})
}

func writeACRError(w http.ResponseWriter, r *http.Request, status int, e acr.Error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(acr.Body(e))
	}
}

// clientIP is the address the firewall judges.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// firewallOK answers 403 DENIED when the registry's network rules refuse the client.
func (c *Cloud) firewallOK(w http.ResponseWriter, r *http.Request, reg registryView) bool {
	ip := clientIP(r)
	if acr.FirewallAllows(reg.network, ip) {
		return true
	}
	c.log.Info("registry request refused by firewall", "registry", reg.name, "ip", ip, "path", r.URL.Path)
	writeACRError(w, r, http.StatusForbidden, acr.FirewallDenied(ip, w.Header().Get("X-Ms-Correlation-Request-Id")))
	return false
}

func challenge(w http.ResponseWriter, r *http.Request, reg registryView, need *acr.Access) {
	w.Header().Set("Www-Authenticate", acr.Challenge(reg.loginServer, need))
	writeACRError(w, r, http.StatusUnauthorized, acr.Unauthorized(need))
}

func (c *Cloud) serveV2(w http.ResponseWriter, r *http.Request, reg registryView) {
	route, ok := acr.ParseRoute(r.Method, r.URL.Path)
	if !ok {
		writeACRError(w, r, http.StatusNotFound, acr.Error{Code: acr.CodeUnsupported, Message: "The operation is unsupported."})
		return
	}
	raw, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !bearer {
		// Anonymous or Basic: ACR challenges; the firewall speaks only at
		// the token endpoints and to authenticated requests.
		challenge(w, r, reg, route.Need)
		return
	}
	if !c.firewallOK(w, r, reg) {
		return
	}
	claims, err := c.verifyACRToken(raw, reg, acr.GrantAccess)
	if err != nil {
		c.log.Info("registry token refused", "registry", reg.name, "error", err)
		challenge(w, r, reg, route.Need)
		return
	}
	if route.Need != nil && !acr.Covers(claims.Access, route.Need.Type, route.Need.Name, route.RequiredAction()) {
		challenge(w, r, reg, route.Need)
		return
	}
	h, err := c.registryStorage(reg.name)
	if err != nil {
		writeACRError(w, r, http.StatusInternalServerError, acr.Error{Code: "UNKNOWN", Message: "The registry's content could not be loaded."})
		return
	}
	if route.Kind != acr.RouteRepository {
		h.ServeHTTP(w, r)
		return
	}
	rw := &acrErrorWriter{ResponseWriter: w, req: r, route: route}
	h.ServeHTTP(rw, r)
	rw.finish()
}

// acrErrorWriter rewrites the storage's 404 bodies into ACR's texts.
type acrErrorWriter struct {
	http.ResponseWriter
	req     *http.Request
	route   acr.Route
	status  int
	buf     bytes.Buffer
	holding bool
}

func (a *acrErrorWriter) WriteHeader(status int) {
	if status == http.StatusNotFound && a.status == 0 {
		a.status, a.holding = status, true
		return
	}
	a.status = status
	a.ResponseWriter.WriteHeader(status)
}

func (a *acrErrorWriter) Write(b []byte) (int, error) {
	if a.holding {
		return a.buf.Write(b)
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.ResponseWriter.Write(b)
}

func (a *acrErrorWriter) finish() {
	if !a.holding {
		return
	}
	var body struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(a.buf.Bytes(), &body)
	code := ""
	if len(body.Errors) > 0 {
		code = body.Errors[0].Code
	}
	a.ResponseWriter.Header().Del("Content-Length")
	switch {
	case code == acr.CodeNameUnknown:
		writeACRError(a.ResponseWriter, a.req, http.StatusNotFound, acr.NameUnknown(a.route.Repository))
	case code == acr.CodeManifestUnknown && a.route.Resource == "manifests":
		writeACRError(a.ResponseWriter, a.req, http.StatusNotFound, acr.ManifestUnknown(a.route.Reference, strings.Contains(a.route.Reference, ":")))
	default:
		a.ResponseWriter.WriteHeader(http.StatusNotFound)
		_, _ = a.ResponseWriter.Write(a.buf.Bytes())
	}
}

// signACR signs ACR token claims with the cloud's key.
func (c *Cloud) signACR(claims acr.Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = c.pki.kid
	s, err := tok.SignedString(c.pki.signKey)
	if err != nil {
		return "", fmt.Errorf("sign registry token: %w", err)
	}
	return s, nil
}

// verifyACRToken checks an ACR token of the given grant type for reg.
func (c *Cloud) verifyACRToken(raw string, reg registryView, grant string) (acr.Claims, error) {
	var claims acr.Claims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &c.pki.signKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(c.now), jwt.WithExpirationRequired(),
		jwt.WithIssuer(acr.Issuer), jwt.WithAudience(reg.loginServer))
	if err != nil {
		return acr.Claims{}, fmt.Errorf("verify registry token: %w", err)
	}
	if claims.GrantType != grant {
		return acr.Claims{}, fmt.Errorf("verify registry token: grant_type is %q, want %q", claims.GrantType, grant)
	}
	return claims, nil
}

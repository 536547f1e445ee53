package cloud

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/podid/podid/internal/cloud/acr"
	"github.com/podid/podid/internal/cloud/authz"
)

// ACRAudience is the Azure AD resource of Container Registry tokens
// (scope https://containerregistry.azure.net/.default).
const ACRAudience = "https://containerregistry.azure.net"

// acrAudiences are the AAD token audiences /oauth2/exchange accepts for reg:
// ACR's always, Resource Manager's unless its policy disables them.
func acrAudiences(reg registryView) []string {
	out := []string{ACRAudience, ACRAudience + "/"}
	if !reg.armDisabled {
		out = append(out, armAudiences...)
	}
	return out
}

func writeRegistryToken(w http.ResponseWriter, key, tok string) {
	writeJSON(w, http.StatusOK, map[string]string{key: tok})
}

// serveACRExchange is POST /oauth2/exchange: an Azure AD access token for
// ACR's (or, unless disabled, ARM's) audience becomes an ACR refresh
// token. It does not look at roles: those decide at /oauth2/token.
func (c *Cloud) serveACRExchange(w http.ResponseWriter, r *http.Request, reg registryView) {
	if r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if !c.firewallOK(w, r, reg) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeACRError(w, r, http.StatusBadRequest, acr.Error{Code: acr.CodeUnsupported, Message: "The request body is not a valid form."})
		return
	}
	f := r.PostForm
	if s := f.Get("service"); !strings.EqualFold(s, reg.loginServer) {
		writeACRError(w, r, http.StatusBadRequest, acr.Error{Code: acr.CodeUnsupported, Message: "The service '" + s + "' is not this registry; use '" + reg.loginServer + "'."})
		return
	}
	var subject, tenant string
	switch gt := f.Get("grant_type"); gt {
	case "access_token", "access_token_refresh_token":
		caller, refusal := c.verifyAADForRegistry(f.Get("access_token"), reg)
		if refusal != "" {
			c.log.Info("registry exchange refused", "registry", reg.name, "reason", refusal)
			writeACRError(w, r, http.StatusUnauthorized, acr.UnauthorizedMessage("%s", refusal))
			return
		}
		if t := f.Get("tenant"); t != "" && !strings.EqualFold(t, caller.TenantID) {
			writeACRError(w, r, http.StatusUnauthorized, acr.UnauthorizedMessage("The access token was issued by tenant '%s', not by the tenant '%s' the request names.", caller.TenantID, t))
			return
		}
		subject, tenant = caller.ObjectID, caller.TenantID
	case "refresh_token":
		claims, err := c.verifyACRToken(f.Get("refresh_token"), reg, acr.GrantRefresh)
		if err != nil {
			writeACRError(w, r, http.StatusUnauthorized, acr.UnauthorizedMessage("The refresh token is invalid or expired."))
			return
		}
		subject, tenant = claims.Subject, claims.Tenant
	default:
		writeACRError(w, r, http.StatusBadRequest, acr.Error{Code: acr.CodeUnsupported, Message: "The grant_type '" + gt + "' is not supported; use access_token."})
		return
	}
	tok, err := c.signACR(acr.RefreshClaims(reg.loginServer, subject, tenant, uuid.NewString(), c.now().Truncate(1e9)))
	if err != nil {
		writeACRError(w, r, http.StatusInternalServerError, acr.Error{Code: "UNKNOWN", Message: "The refresh token could not be issued."})
		return
	}
	c.log.Info("registry refresh token issued", "registry", reg.name, "principal", subject)
	writeRegistryToken(w, "refresh_token", tok)
}

// verifyAADForRegistry validates an Azure AD access token with the cloud's
// own verification, for reg's audiences and tenant. A refusal is the
// message the 401 body carries.
func (c *Cloud) verifyAADForRegistry(raw string, reg registryView) (tokenClaims, string) {
	if raw == "" {
		return tokenClaims{}, "The request must contain an access_token."
	}
	fake := &http.Request{Header: http.Header{"Authorization": {"Bearer " + raw}}}
	caller, err := c.verifyBearer(fake, acrAudiences(reg)...)
	switch {
	case errors.Is(err, errExpiredToken):
		return tokenClaims{}, "The access token has expired. Get a new Azure AD access token and try again."
	case errors.Is(err, errWrongAudience) && reg.armDisabled && slices.Contains(armAudiences, caller.Audience):
		return tokenClaims{}, "Azure AD tokens for Azure Resource Manager are not allowed by this registry's azureADAuthenticationAsArmPolicy. Request a token for " + ACRAudience + " instead."
	case errors.Is(err, errWrongAudience):
		return tokenClaims{}, "The access token has the wrong audience '" + caller.Audience + "'. Request a token for " + ACRAudience + "."
	case err != nil:
		return tokenClaims{}, "The access token is invalid."
	}
	if !strings.EqualFold(caller.TenantID, reg.tenant) {
		return tokenClaims{}, "The access token is from tenant '" + caller.TenantID + "', not the registry's tenant '" + reg.tenant + "'."
	}
	return caller, ""
}

// serveACRToken is /oauth2/token: an access token for the requested
// scopes, granted as far as the caller's roles (or anonymous pull) allow.
// Credentials: POST refresh_token or password grants, or GET with Basic
// (the null GUID with a refresh token, or a service principal's app ID and
// secret), or none (anonymous).
func (c *Cloud) serveACRToken(w http.ResponseWriter, r *http.Request, reg registryView) {
	if !c.firewallOK(w, r, reg) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeACRError(w, r, http.StatusBadRequest, acr.Error{Code: acr.CodeUnsupported, Message: "The request is not a valid form."})
		return
	}
	if s := r.Form.Get("service"); !strings.EqualFold(s, reg.loginServer) {
		writeACRError(w, r, http.StatusBadRequest, acr.Error{Code: acr.CodeUnsupported, Message: "The service '" + s + "' is not this registry; use '" + reg.loginServer + "'."})
		return
	}
	requested, err := acr.ParseScopes(r.Form["scope"])
	if err != nil {
		writeACRError(w, r, http.StatusBadRequest, acr.Error{Code: acr.CodeUnsupported, Message: err.Error()})
		return
	}
	subject, tenant, anonymous, refusal := c.registryCaller(r, reg)
	if refusal != nil {
		c.log.Info("registry token refused", "registry", reg.name, "reason", refusal.Message)
		status := http.StatusUnauthorized
		if refusal.Code == acr.CodeUnsupported {
			status = http.StatusBadRequest
		}
		writeACRError(w, r, status, *refusal)
		return
	}
	if anonymous && !reg.anonymousPull {
		// Without anonymous pull, a caller without credentials gets nothing at all.
		writeACRError(w, r, http.StatusUnauthorized, acr.Unauthorized(nil))
		return
	}
	can := acr.AnonymousChecker(reg.anonymousPull)
	if !anonymous {
		can = c.registryChecker(subject, reg)
	}
	granted := acr.Grant(reg.mode, requested, can)
	if len(requested) > 0 && len(granted) == 0 {
		c.log.Info("registry token refused", "registry", reg.name, "principal", subject, "anonymous", anonymous, "reason", "no requested access allowed")
		writeACRError(w, r, http.StatusUnauthorized, acr.Unauthorized(nil))
		return
	}
	tok, err := c.signACR(acr.AccessClaims(reg.loginServer, subject, tenant, uuid.NewString(), granted, c.now().Truncate(1e9)))
	if err != nil {
		writeACRError(w, r, http.StatusInternalServerError, acr.Error{Code: "UNKNOWN", Message: "The access token could not be issued."})
		return
	}
	c.metrics.tokens.WithLabelValues("acr").Inc()
	writeRegistryToken(w, "access_token", tok)
}

// registryCaller works out who calls /oauth2/token. A refusal is
// UNAUTHORIZED (401) or, for containerd's password-grant POST of the null
// GUID that ACR does not take, UNSUPPORTED (400).
func (c *Cloud) registryCaller(r *http.Request, reg registryView) (subject, tenant string, anonymous bool, refusal *acr.Error) {
	refuse := func(format string, args ...any) (string, string, bool, *acr.Error) {
		e := acr.UnauthorizedMessage(format, args...)
		return "", "", false, &e
	}
	var user, secret, refresh string
	if r.Method == http.MethodPost {
		switch gt := r.PostForm.Get("grant_type"); gt {
		case "refresh_token":
			refresh = r.PostForm.Get("refresh_token")
		case "password":
			user, secret = r.PostForm.Get("username"), r.PostForm.Get("password")
			if user == acr.NullUsername {
				return "", "", false, &acr.Error{Code: acr.CodeUnsupported, Message: "The password grant does not take a refresh token; send it as grant_type=refresh_token or with Basic authentication."}
			}
		default:
			return "", "", false, &acr.Error{Code: acr.CodeUnsupported, Message: "The grant_type '" + gt + "' is not supported; use refresh_token or password."}
		}
	} else if u, p, ok := r.BasicAuth(); ok {
		if u == acr.NullUsername {
			refresh = p
		} else {
			user, secret = u, p
		}
	} else {
		return "", "", true, nil
	}
	if refresh != "" || user == "" {
		claims, err := c.verifyACRToken(refresh, reg, acr.GrantRefresh)
		if err != nil {
			return refuse("%s", acr.AuthenticationRequired)
		}
		return claims.Subject, claims.Tenant, false, nil
	}
	c.store.mu.Lock()
	app := c.store.appLocked(reg.tenant, user)
	var creds []PasswordCredential
	if app != nil {
		creds = append(creds, app.Secrets...)
	}
	c.store.mu.Unlock()
	if app == nil {
		return refuse("Application not registered with AAD.")
	}
	if aerr := c.checkSecret(user, secret, creds); aerr != nil {
		return refuse("%s", aerr.Error())
	}
	return app.ObjectID, app.TenantID, false, nil
}

// registryChecker answers acr's RBAC questions for principal on reg from
// the cloud's role assignments.
func (c *Cloud) registryChecker(principal string, reg registryView) acr.Checker {
	return func(p acr.Permission) bool {
		c.store.mu.Lock()
		defer c.store.mu.Unlock()
		d := authz.Authorize(authz.Request{PrincipalID: principal, Action: p.Action, DataAction: p.DataAction, Scope: reg.id, Attributes: p.Attributes},
			c.store.st.RoleAssignments, c.store.defs)
		return d.Allowed
	}
}

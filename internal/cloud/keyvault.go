package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Key Vault's token audience and challenge resource.
const vaultResource = "https://vault.azure.net"

var secretNameRE = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

func kvError(w http.ResponseWriter, status int, code, msg, inner string) {
	e := map[string]any{"code": code, "message": msg}
	if inner != "" {
		e["innererror"] = map[string]string{"code": inner}
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// kvOp is one secret operation: the data action (RBAC) and the permission
// (access policy) it needs.
type kvOp struct {
	action     string
	permission string
}

var (
	opGet = kvOp{"Microsoft.KeyVault/vaults/secrets/getSecret/action", "get"}
	opSet = kvOp{"Microsoft.KeyVault/vaults/secrets/setSecret/action", "set"}
)

func (c *Cloud) vaultHandler(vaultName string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.store.mu.Lock()
		v := c.store.vaultLocked(vaultName)
		var tenant string
		if v != nil {
			tenant = v.TenantID
		}
		c.store.mu.Unlock()
		if v == nil {
			kvError(w, http.StatusNotFound, "VaultNotFound", fmt.Sprintf("Vault '%s' was deleted.", vaultName), "")
			return
		}
		challenge := fmt.Sprintf(`Bearer authorization="%s/%s", resource="%s"`, c.authorityBase(r), tenant, vaultResource)
		caller, err := c.verifyBearer(r, vaultResource, vaultResource+"/")
		if err != nil {
			w.Header().Set("WWW-Authenticate", challenge)
			msg := "AKV10000: Request is missing a Bearer or PoP token."
			switch {
			case errors.Is(err, errWrongAudience):
				msg = fmt.Sprintf("AKV10022: Invalid audience. Expected %s, found: %s.", vaultResource, caller.Audience)
			case errors.Is(err, errExpiredToken):
				msg = "AKV10005: The token has expired."
			case errors.Is(err, errBadToken):
				msg = "AKV10013: Invalid token."
			}
			kvError(w, http.StatusUnauthorized, "Unauthorized", msg, "")
			return
		}
		if !strings.EqualFold(caller.TenantID, tenant) {
			w.Header().Set("WWW-Authenticate", challenge)
			kvError(w, http.StatusUnauthorized, "Unauthorized", fmt.Sprintf("AKV10032: Invalid issuer. Expected one of %s, found %s.", c.issuer(tenant), caller.Issuer), "")
			return
		}
		if r.URL.Query().Get("api-version") == "" {
			kvError(w, http.StatusBadRequest, "BadParameter", "The request URI contains an invalid or missing api-version parameter.", "")
			return
		}
		c.serveSecrets(w, r, caller, vaultName)
	})
}

func (c *Cloud) serveSecrets(w http.ResponseWriter, r *http.Request, caller tokenClaims, vaultName string) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "secrets" || !secretNameRE.MatchString(parts[1]) {
		kvError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
		return
	}
	name, version := parts[1], ""
	if len(parts) >= 3 {
		version = parts[2]
	}
	base := "https://" + r.Host
	switch r.Method {
	case http.MethodGet:
		if !c.vaultAllowed(w, caller, vaultName, name, opGet) {
			return
		}
		c.store.mu.Lock()
		sv, ok := c.store.secretLocked(vaultName, name, version)
		c.store.mu.Unlock()
		if !ok {
			ref := name
			if version != "" {
				ref += "/" + version
			}
			kvError(w, http.StatusNotFound, "SecretNotFound", fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", ref), "")
			return
		}
		if !sv.Enabled {
			kvError(w, http.StatusForbidden, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")
			return
		}
		writeJSON(w, http.StatusOK, secretJSON(base, name, sv))
	case http.MethodPut:
		if len(parts) != 2 {
			kvError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method is not allowed on this path.", "")
			return
		}
		if !c.vaultAllowed(w, caller, vaultName, name, opSet) {
			return
		}
		var body struct {
			Value       *string           `json:"value"`
			ContentType string            `json:"contentType"`
			Tags        map[string]string `json:"tags"`
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(b, &body)
		}
		if err != nil || body.Value == nil {
			kvError(w, http.StatusBadRequest, "BadParameter", "The request body must contain a 'value'.", "")
			return
		}
		sv, err := c.SetSecret(vaultName, name, *body.Value, body.ContentType, body.Tags)
		if err != nil {
			kvError(w, http.StatusNotFound, "VaultNotFound", err.Error(), "")
			return
		}
		writeJSON(w, http.StatusOK, secretJSON(base, name, sv))
	default:
		kvError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method is not allowed on this path.", "")
	}
}

func secretJSON(base, name string, sv SecretVersion) map[string]any {
	out := map[string]any{"value": sv.Value, "id": base + "/secrets/" + name + "/" + sv.Version,
		"attributes": map[string]any{"enabled": sv.Enabled, "created": sv.Created.Unix(), "updated": sv.Updated.Unix(),
			"recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}}
	if sv.ContentType != "" {
		out["contentType"] = sv.ContentType
	}
	if len(sv.Tags) > 0 {
		out["tags"] = sv.Tags
	}
	return out
}

// vaultAllowed applies the vault's permission model and answers 403 in that
// model's words when the caller may not perform op.
func (c *Cloud) vaultAllowed(w http.ResponseWriter, caller tokenClaims, vaultName, secret string, op kvOp) bool {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	v := c.store.vaultLocked(vaultName)
	callerText := fmt.Sprintf("appid=%s;oid=%s;iss=%s", caller.AppID, caller.ObjectID, caller.Issuer)
	if v.RBAC {
		resource := v.ID + "/secrets/" + secret
		d := c.store.authorizeLocked(caller.ObjectID, op.action, resource, true)
		if d.Allowed {
			return true
		}
		kvError(w, http.StatusForbidden, "Forbidden", fmt.Sprintf(
			"Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: %s\r\nAction: '%s'\r\nResource: '%s'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: '%s' \r\nVault: %s;location=%s\r\n",
			callerText, op.action, strings.ToLower(resource), d.Reason, v.Name, v.Location), "ForbiddenByRbac")
		return false
	}
	for _, p := range v.AccessPolicies {
		if strings.EqualFold(p.ObjectID, caller.ObjectID) && (slices.ContainsFunc(p.Secrets, func(s string) bool { return strings.EqualFold(s, op.permission) || strings.EqualFold(s, "all") })) {
			return true
		}
	}
	kvError(w, http.StatusForbidden, "Forbidden", fmt.Sprintf(
		"The user, group or application '%s' does not have secrets %s permission on key vault '%s;location=%s'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
		callerText, op.permission, v.Name, v.Location), "AccessDenied")
	return false
}

func (s *store) secretLocked(vault, name, version string) (SecretVersion, bool) {
	v := s.vaultLocked(vault)
	if v == nil {
		return SecretVersion{}, false
	}
	versions := v.Secrets[lower(name)]
	if len(versions) == 0 {
		return SecretVersion{}, false
	}
	if version == "" {
		return versions[len(versions)-1], true
	}
	for _, sv := range versions {
		if strings.EqualFold(sv.Version, version) {
			return sv, true
		}
	}
	return SecretVersion{}, false
}

// SetSecret adds a new version of a secret.
func (c *Cloud) SetSecret(vault, name, value, contentType string, tags map[string]string) (SecretVersion, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	v := c.store.vaultLocked(vault)
	if v == nil {
		return SecretVersion{}, fmt.Errorf("vault %s not found", vault)
	}
	now := c.now().UTC()
	sv := SecretVersion{Version: strings.ReplaceAll(uuid.NewString(), "-", ""), Value: value, ContentType: contentType, Tags: tags, Enabled: true, Created: now, Updated: now}
	if v.Secrets == nil {
		v.Secrets = map[string][]SecretVersion{}
	}
	v.Secrets[lower(name)] = append(v.Secrets[lower(name)], sv)
	c.store.dirty()
	return sv, nil
}

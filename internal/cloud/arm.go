package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// armAudiences are the token audiences Resource Manager accepts.
var armAudiences = []string{"https://management.azure.com/", "https://management.azure.com", "https://management.core.windows.net/", "https://management.core.windows.net"}

// armCall is an authenticated ARM request.
type armCall struct {
	w      http.ResponseWriter
	r      *http.Request
	caller tokenClaims
	segs   []string // path segments, original case
}

func armError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// serveARM authenticates, checks api-version and routes by path shape.
func (c *Cloud) serveARM(w http.ResponseWriter, r *http.Request) {
	caller, err := c.verifyBearer(r, armAudiences...)
	if err != nil {
		c.armUnauthorized(w, r, caller, err)
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	call := &armCall{w: w, r: r, caller: caller}
	if i := strings.Index(strings.ToLower(path), "/providers/microsoft.authorization/"); i >= 0 {
		rest := strings.Split(path[i+len("/providers/microsoft.authorization/"):], "/")
		c.serveAuthorization(call, path[:i], rest)
		return
	}
	call.segs = strings.Split(strings.TrimPrefix(path, "/"), "/")
	s := call.segs
	if c.serveRootListing(call, s) {
		return
	}
	if len(s) < 2 || !strings.EqualFold(s[0], "subscriptions") {
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace.")
		return
	}
	if !c.checkSubscription(call, s[1]) {
		return
	}
	switch {
	case len(s) == 2:
		c.serveSubscription(call, s[1])
	case len(s) == 3 && strings.EqualFold(s[2], "resourcegroups"):
		c.serveGroupList(call, s[1])
	case len(s) == 4 && strings.EqualFold(s[2], "resourcegroups"):
		c.serveGroup(call, s[1], s[3])
	case len(s) == 5 && strings.EqualFold(s[2], "providers"):
		if c.serveRegistrySubscription(call, s[1], s[3], s[4]) {
			return
		}
		c.serveSubscriptionProvider(call, s[1], s[3], s[4])
	case len(s) >= 7 && strings.EqualFold(s[2], "resourcegroups") && strings.EqualFold(s[4], "providers"):
		c.serveProvider(call, s[1], s[3], s[5], s[6], s[7:])
	default:
		armError(w, http.StatusNotFound, "InvalidResourceType", fmt.Sprintf("The resource type '%s' could not be found.", path))
	}
}

func (c *Cloud) armUnauthorized(w http.ResponseWriter, r *http.Request, caller tokenClaims, err error) {
	code, msg, desc := "InvalidAuthenticationToken", "The access token is invalid.", "The access token is invalid."
	switch {
	case errors.Is(err, errNoBearer):
		code, msg, desc = "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", "The authentication failed because of missing 'Authorization' header."
	case errors.Is(err, errExpiredToken):
		code, msg, desc = "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.", "The access token has expired."
	case errors.Is(err, errWrongAudience):
		code = "InvalidAuthenticationTokenAudience"
		msg = fmt.Sprintf("The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences '%s'.", caller.Audience, strings.Join(armAudiences, "','"))
		desc = "The access token has been obtained for wrong audience or resource."
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/", error="invalid_token", error_description="%s"`, c.authorityBase(r), desc))
	armError(w, http.StatusUnauthorized, code, msg)
}

// checkSubscription refuses unknown subscriptions and tokens of another tenant.
func (c *Cloud) checkSubscription(call *armCall, subID string) bool {
	c.store.mu.Lock()
	sub, ok := c.store.subscriptionLocked(subID)
	c.store.mu.Unlock()
	if !ok {
		armError(call.w, http.StatusNotFound, "SubscriptionNotFound", fmt.Sprintf("The subscription '%s' could not be found.", subID))
		return false
	}
	if !strings.EqualFold(sub.TenantID, call.caller.TenantID) {
		call.w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/%s", error="invalid_token", error_description="The access token is from the wrong issuer."`, c.authorityBase(call.r), sub.TenantID))
		armError(call.w, http.StatusUnauthorized, "InvalidAuthenticationTokenTenant",
			fmt.Sprintf("The access token is from the wrong issuer '%s'. It must match the tenant '%s' associated with this subscription. Please use the authority (URL) '%s/%s' to get the token.", call.caller.Issuer, c.issuer(sub.TenantID), c.authorityBase(call.r), sub.TenantID))
		return false
	}
	return true
}

// authorize answers 403 AuthorizationFailed unless the caller may perform action on scope.
func (c *Cloud) authorize(call *armCall, action, scope string) bool {
	c.store.mu.Lock()
	d := c.store.authorizeLocked(call.caller.ObjectID, action, scope, false)
	client := c.store.clientNameLocked(call.caller.ObjectID)
	c.store.mu.Unlock()
	if d.Allowed {
		return true
	}
	c.log.Info("arm call refused", "principal", call.caller.ObjectID, "action", action, "scope", scope, "reason", d.Reason)
	armError(call.w, http.StatusForbidden, "AuthorizationFailed", fmt.Sprintf(
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		client, call.caller.ObjectID, action, scope))
	return false
}

// decodeBody reads a JSON request body into v, answering 400 on failure.
func decodeBody(call *armCall, v any) bool {
	b, err := io.ReadAll(io.LimitReader(call.r.Body, 4<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		armError(call.w, http.StatusBadRequest, "InvalidRequestContent", fmt.Sprintf("The request content was invalid and could not be deserialized: '%v'.", err))
		return false
	}
	return true
}

func methodNotAllowed(call *armCall) {
	armError(call.w, http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("The HTTP method '%s' is not supported at this path.", call.r.Method))
}

func (c *Cloud) serveSubscription(call *armCall, subID string) {
	if call.r.Method != http.MethodGet {
		methodNotAllowed(call)
		return
	}
	scope := "/subscriptions/" + subID
	if !c.authorize(call, "Microsoft.Resources/subscriptions/read", scope) {
		return
	}
	c.store.mu.Lock()
	sub, _ := c.store.subscriptionLocked(subID)
	c.store.mu.Unlock()
	writeJSON(call.w, http.StatusOK, map[string]any{"id": "/subscriptions/" + sub.ID, "subscriptionId": sub.ID, "tenantId": sub.TenantID,
		"displayName": sub.Name, "state": "Enabled"})
}

func (c *Cloud) resourceNotFound(call *armCall, rg, typ, name string) {
	armError(call.w, http.StatusNotFound, "ResourceNotFound", resourceNotFoundMessage(rg, typ, name))
}

// resourceNotFoundMessage is ARM's text for a resource that does not exist.
func resourceNotFoundMessage(rg, typ, name string) string {
	return fmt.Sprintf("The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", typ, name, rg)
}

func groupNotFound(call *armCall, rg string) {
	armError(call.w, http.StatusNotFound, "ResourceGroupNotFound", fmt.Sprintf("Resource group '%s' could not be found.", rg))
}

// serveProvider routes /subscriptions/s/resourceGroups/rg/providers/NS/TYPE[/name[/child...]].
func (c *Cloud) serveProvider(call *armCall, sub, rg, ns, typ string, rest []string) {
	full := strings.ToLower(ns + "/" + typ)
	switch full {
	case "microsoft.managedidentity/userassignedidentities":
		c.serveIdentities(call, sub, rg, rest)
	case "microsoft.keyvault/vaults":
		c.serveVaults(call, sub, rg, rest)
	case "microsoft.containerregistry/registries":
		c.serveRegistries(call, sub, rg, rest)
	case "microsoft.containerservice/managedclusters":
		c.serveManagedClusters(call, sub, rg, rest)
	case "microsoft.compute/virtualmachinescalesets", "microsoft.compute/virtualmachines":
		c.serveMachines(call, sub, rg, full == "microsoft.compute/virtualmachinescalesets", rest)
	default:
		armError(call.w, http.StatusBadRequest, "NoRegisteredProviderFound", fmt.Sprintf("No registered resource provider found for location and API version for type '%s/%s'.", ns, typ))
	}
}

package cloud

import (
	"net/http"
	"time"
)

// AADSTS errors of the sign-in flows for people (device code, resource
// owner password, refresh token). Azure AD hides user names in its texts
// ("{EUII Hidden}"); so does the embedded cloud.

func errMissingParam(name string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

func errUserNotFound(tenant string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_grant", 50034,
		"The user account {EUII Hidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", tenant)
}

func errBadPassword() *aadError {
	return newAADError(http.StatusBadRequest, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
}

func errUserDisabled() *aadError {
	return newAADError(http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.")
}

// errNeedsClientSecret is the answer to a public-client flow (device code,
// password, refresh) for an app that is not a public client.
func errNeedsClientSecret() *aadError {
	return newAADError(http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errResourceNotFound(resource, tenant string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_resource", 500011,
		"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenant)
}

func errTwoResources(scope string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_scope", 28000,
		"Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", scope)
}

func errUnknownScope(client, scope, resource string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_scope", 650053,
		"The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", client, scope, resource)
}

// Device code polling answers.

func errAuthorizationPending() *aadError {
	return newAADError(http.StatusBadRequest, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
}

// errSlowDown is RFC 8628's answer to a client polling faster than the
// interval; Azure AD names no code of its own for it, so it keeps the
// pending code and says how long to wait.
func errSlowDown(interval time.Duration) *aadError {
	return newAADError(http.StatusBadRequest, "slow_down", 70016,
		"OAuth 2.0 device flow error. Authorization is pending. Continue polling, waiting at least %d seconds between requests.", int(interval.Seconds()))
}

func errDeviceCodeExpired() *aadError {
	return newAADError(http.StatusBadRequest, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
}

func errDeviceDeclined() *aadError {
	return newAADError(http.StatusBadRequest, "authorization_declined", 65004, "User declined to consent to access the app.")
}

// errBadGrant answers a device code or refresh token that the cloud did not
// issue, or issued to another client.
func errBadGrant() *aadError {
	return newAADError(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
}

func errMalformedGrant() *aadError {
	return newAADError(http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
}

func errRefreshExpired(issued time.Time, idle time.Duration) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_grant", 700082,
		"The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %s.",
		issued.UTC().Format(aadTimeLayout), idle.Round(time.Second))
}

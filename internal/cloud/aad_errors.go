package cloud

import (
	"crypto/sha1" //nolint:gosec // thumbprints only
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// aadError is an Azure AD token-endpoint error.
type aadError struct {
	status int
	kind   string // OAuth "error"
	code   int    // AADSTS code
	text   string // text after "AADSTSnnnn: "
}

func (e *aadError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.code, e.text) }

func newAADError(status int, kind string, code int, format string, args ...any) *aadError {
	return &aadError{status: status, kind: kind, code: code, text: fmt.Sprintf(format, args...)}
}

// AADSTS errors the token endpoint returns.
func errAppNotFound(client, tenant string) *aadError {
	return newAADError(http.StatusBadRequest, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", client, tenant)
}

func errTenantNotFound(tenant string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_request", 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func errInvalidSecret(app string) *aadError {
	return newAADError(http.StatusUnauthorized, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app)
}

func errExpiredSecret(app string) *aadError {
	return newAADError(http.StatusUnauthorized, "invalid_client", 7000222,
		"The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app)
}

func errNoFederatedMatch(iss, sub, aud string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_request", 70021,
		"No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation", iss, sub, aud)
}

const aadTimeLayout = "2006-01-02T15:04:05.0000000Z"

func errAssertionTime(now, nbf, exp time.Time) *aadError {
	return newAADError(http.StatusUnauthorized, "invalid_client", 700024,
		"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
		now.UTC().Format(aadTimeLayout), nbf.UTC().Format(aadTimeLayout), exp.UTC().Format(aadTimeLayout))
}

func errMissingCredential() *aadError {
	return newAADError(http.StatusUnauthorized, "invalid_client", 7000216,
		"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
}

func errMalformedAssertion(detail string) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed. %s", detail)
}

func errSignature(detail string) *aadError {
	return newAADError(http.StatusUnauthorized, "invalid_client", 50013, "Assertion failed signature validation. [Reason - %s]", detail)
}

func errCertNotRegistered(app string) *aadError {
	return newAADError(http.StatusUnauthorized, "invalid_client", 700027,
		"The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", app)
}

// errCertExpired is Azure's answer to an assertion signed with a registered
// certificate credential whose end date has passed.
func errCertExpired(app string, cert *x509.Certificate, end time.Time) *aadError {
	const layout = "01/02/2006 15:04:05"
	sum := sha1.Sum(cert.Raw) //nolint:gosec // Azure names keys by their SHA-1 thumbprint.
	return newAADError(http.StatusUnauthorized, "invalid_client", 700027,
		"Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]",
		strings.ToUpper(hex.EncodeToString(sum[:])), cert.NotBefore.UTC().Format(layout), end.UTC().Format(layout), app)
}

func errIssuerUnreachable(iss string, err error) *aadError {
	return newAADError(http.StatusBadRequest, "invalid_request", 50166,
		"Request to External OIDC endpoint failed. Issuer: '%s'. Reason: %v", iss, err)
}

// writeAADError writes e in the AAD JSON shape with fresh trace IDs.
func (c *Cloud) writeAADError(w http.ResponseWriter, r *http.Request, e *aadError) {
	trace := uuid.NewString()
	corr := r.Header.Get("client-request-id")
	if _, err := uuid.Parse(corr); err != nil {
		corr = uuid.NewString()
	}
	ts := c.now().UTC().Format("2006-01-02 15:04:05Z")
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.code, e.text, trace, corr, ts)
	w.Header().Set("client-request-id", corr)
	w.Header().Set("x-ms-request-id", trace)
	writeJSON(w, e.status, map[string]any{
		"error": e.kind, "error_description": desc, "error_codes": []int{e.code}, "timestamp": ts,
		"trace_id": trace, "correlation_id": corr, "error_uri": fmt.Sprintf("%s/error?code=%d", c.authorityBase(r), e.code),
	})
}

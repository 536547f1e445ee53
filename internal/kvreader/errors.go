package kvreader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// maxDetail caps the text of an underlying error in an answer: azidentity
// errors carry whole response dumps.
const maxDetail = 300

// describe turns a failed read of secret name into the HTTP status and the
// sentence answered to the pod: which hop failed and what to check.
func describe(name string, err error) (int, string) {
	var tokenErr *TokenError
	var respErr *azcore.ResponseError
	switch {
	case errors.As(err, &tokenErr):
		src := sourceOf(tokenErr.Kind)
		return http.StatusBadGateway, fmt.Sprintf("No token for Key Vault could be obtained from %s: %s. %s",
			src.from, tokenDetail(tokenErr.Err), src.check)
	case errors.As(err, &respErr):
		code, msg := vaultError(respErr)
		if respErr.StatusCode == http.StatusNotFound {
			return http.StatusNotFound, fmt.Sprintf("Key Vault has no secret %q (%s).", name, code)
		}
		s := fmt.Sprintf("Key Vault refused to read secret %q: %s (HTTP %d)", name, code, respErr.StatusCode)
		if msg != "" {
			s += ": " + msg
		}
		if respErr.StatusCode == http.StatusForbidden {
			s += " Grant the pod's identity get permission on the vault's secrets."
		}
		return http.StatusBadGateway, s
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, fmt.Sprintf("Reading secret %q took too long: %s.", name, detail(err))
	default:
		return http.StatusBadGateway, fmt.Sprintf("Could not read secret %q from Key Vault: %s.", name, detail(err))
	}
}

// tokenSource is where a credential kind gets its token, and what to check
// when it gets none.
type tokenSource struct{ from, check string }

const (
	checkPodIdentity      = "Check that the pod carries the aadpodidbinding label of an AzureIdentityBinding and that its AzureAssignedIdentity is Assigned."
	checkWorkloadIdentity = "Check that the identity AZURE_CLIENT_ID names has a federated credential with the cluster's issuer, the subject system:serviceaccount:<namespace>:<service account> and the audience api://AzureADTokenExchange (podid doctor --pod NAMESPACE/POD compares them)."
)

func sourceOf(kind string) tokenSource {
	switch kind {
	case CredWorkloadIdentity:
		return tokenSource{"Azure AD with the pod's projected service-account token (AZURE_FEDERATED_TOKEN_FILE)", checkWorkloadIdentity}
	case CredDefault:
		return tokenSource{"DefaultAzureCredential (workload identity when the pod has its environment, then IMDS)", checkWorkloadIdentity + " Without workload identity: " + checkPodIdentity}
	}
	return tokenSource{"IMDS (169.254.169.254)", checkPodIdentity}
}

// aadError finds Azure AD's own sentence ("AADSTS70021: No matching
// federated identity record found ...") in an azidentity error, which
// buries it after the request line and a response dump.
var aadError = regexp.MustCompile(`AADSTS\d+:[^"\n]*`)

// tokenDetail is Azure AD's sentence when the error holds one, else the
// error's text, cut as detail cuts it.
func tokenDetail(err error) string {
	if m := aadError.FindString(err.Error()); m != "" {
		return detail(errors.New(m))
	}
	return detail(err)
}

// vaultError is Key Vault's error code and message, from the body
// {"error":{"code":"Forbidden","message":"..."}} when the SDK left it.
func vaultError(e *azcore.ResponseError) (code, message string) {
	code = e.ErrorCode
	if e.RawResponse == nil {
		return orStatus(code, e.StatusCode), ""
	}
	body, err := runtime.Payload(e.RawResponse)
	if err != nil {
		return orStatus(code, e.StatusCode), ""
	}
	var v struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(body, &v) == nil {
		if code == "" {
			code = v.Error.Code
		}
		message = detail(errors.New(v.Error.Message))
	}
	return orStatus(code, e.StatusCode), message
}

func orStatus(code string, status int) string {
	if code != "" {
		return code
	}
	return http.StatusText(status)
}

// detail is err's text on one line, cut at maxDetail.
func detail(err error) string {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Trim(line, "-") == "" {
			continue
		}
		parts = append(parts, line)
	}
	s := strings.TrimSuffix(strings.Join(parts, " "), ".")
	if len(s) > maxDetail {
		s = s[:maxDetail] + "…"
	}
	return s
}

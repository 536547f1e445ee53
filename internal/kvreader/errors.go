package kvreader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
		return http.StatusBadGateway, fmt.Sprintf(
			"No token for Key Vault could be obtained from IMDS (169.254.169.254): %s. "+
				"Check that the pod carries the aadpodidbinding label of an AzureIdentityBinding and that its AzureAssignedIdentity is Assigned.",
			detail(tokenErr.Err))
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

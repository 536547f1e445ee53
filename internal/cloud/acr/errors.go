package acr

import (
	"encoding/json"
	"fmt"
)

// Error codes of ACR's error bodies.
const (
	CodeUnauthorized    = "UNAUTHORIZED"
	CodeDenied          = "DENIED"
	CodeNameUnknown     = "NAME_UNKNOWN"
	CodeManifestUnknown = "MANIFEST_UNKNOWN"
	CodeUnsupported     = "UNSUPPORTED"
)

// AuthenticationRequired is ACR's UNAUTHORIZED message.
const AuthenticationRequired = "authentication required, visit https://aka.ms/acr/authorization for more information."

// Error is one entry of ACR's {"errors":[...]} body. With HasDetail the
// detail key is written even when Detail is nil (ACR's "detail":null).
type Error struct {
	Code      string
	Message   string
	Detail    any
	HasDetail bool
}

// MarshalJSON writes code, message and, when present, detail in ACR's order.
func (e Error) MarshalJSON() ([]byte, error) {
	if !e.HasDetail {
		return json.Marshal(struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}{e.Code, e.Message})
	}
	return json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Detail  any    `json:"detail"`
	}{e.Code, e.Message, e.Detail})
}

// Body is the JSON body holding errs.
func Body(errs ...Error) []byte {
	b, _ := json.Marshal(struct {
		Errors []Error `json:"errors"`
	}{errs})
	return b
}

// DetailEntry names one refused action in an UNAUTHORIZED detail.
type DetailEntry struct {
	Type   string `json:"Type"`
	Name   string `json:"Name"`
	Action string `json:"Action"`
}

// Unauthorized is the 401 body: detail null at /v2/ (need is nil), or one
// entry per action the request needed.
func Unauthorized(need *Access) Error {
	e := Error{Code: CodeUnauthorized, Message: AuthenticationRequired, HasDetail: true}
	if need != nil {
		var d []DetailEntry
		for _, a := range need.Actions {
			d = append(d, DetailEntry{Type: need.Type, Name: need.Name, Action: a})
		}
		e.Detail = d
	}
	return e
}

// UnauthorizedMessage is a 401 with a message of its own (token endpoint
// refusals that say why), detail null.
func UnauthorizedMessage(format string, args ...any) Error {
	return Error{Code: CodeUnauthorized, Message: fmt.Sprintf(format, args...), HasDetail: true}
}

// FirewallDenied is the 403 the firewall answers for a client IP; a
// non-empty correlation ID is appended as ACR does.
func FirewallDenied(ip, correlationID string) Error {
	msg := fmt.Sprintf("client with IP '%s' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.", ip)
	if correlationID != "" {
		msg += " CorrelationId: " + correlationID
	}
	return Error{Code: CodeDenied, Message: msg}
}

// NameUnknown is the 404 for a repository that does not exist.
func NameUnknown(repo string) Error {
	return Error{Code: CodeNameUnknown, Message: fmt.Sprintf("repository %q is not found", repo)}
}

// ManifestUnknown is the 404 for a tag or digest the repository lacks.
func ManifestUnknown(reference string, isDigest bool) Error {
	if isDigest {
		return Error{Code: CodeManifestUnknown, Message: fmt.Sprintf("manifest %s is not found", reference), HasDetail: true, Detail: map[string]string{"Digest": reference}}
	}
	return Error{Code: CodeManifestUnknown, Message: fmt.Sprintf("manifest tagged by %q is not found", reference), HasDetail: true, Detail: map[string]string{"Tag": reference}}
}

// Challenge is the Www-Authenticate header of a 401: the realm is the
// registry's own token endpoint; need (nil at /v2/) adds the scope.
func Challenge(loginServer string, need *Access) string {
	h := fmt.Sprintf(`Bearer realm="https://%s/oauth2/token",service="%s"`, loginServer, loginServer)
	if need != nil {
		h += fmt.Sprintf(`,scope="%s"`, need.String())
	}
	return h
}

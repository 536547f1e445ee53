package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/podid/podid/internal/imds"
	"github.com/podid/podid/internal/tokens"
)

func newIMDSToken(t tokens.Token, now time.Time) imds.Token {
	return imds.NewToken(t.AccessToken, t.ClientID, t.Resource, t.TokenType, t.ExpiresOn, t.NotBefore, now)
}

// hostToken is the /host/token body of aad-pod-identity.
type hostToken struct {
	Token    imds.Token `json:"token"`
	ClientID string     `json:"clientid"`
}

// errorBody is the flat OAuth error body IMDS uses.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// metadataHeaderMessage is the exact description real IMDS sends.
const metadataHeaderMessage = "Required metadata header not specified"

func errorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusForbidden:
		return "access_denied"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	default:
		return "unknown"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

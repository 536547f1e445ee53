package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
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
	writeBody(w, status, b)
}

// writeToken answers with a token's IMDS body, encoded into a pooled
// buffer: the warm path's one large allocation otherwise.
func writeToken(w http.ResponseWriter, t tokens.Token, now time.Time) {
	bp := tokenBodies.Get().(*[]byte)
	b := imds.AppendToken((*bp)[:0], t.AccessToken, t.ClientID, t.Resource, t.TokenType, t.ExpiresOn, t.NotBefore, now)
	writeBody(w, http.StatusOK, b)
	*bp = b[:0]
	tokenBodies.Put(bp)
}

var tokenBodies = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// jsonContentType is shared by every response; net/http only reads it.
var jsonContentType = []string{"application/json; charset=utf-8"}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/podid/podid/internal/tokens"
)

// imdsToken is the IMDS success body: every value a string, fields in the
// order real IMDS sends them (MSAL.NET lets the later of expires_in and
// expires_on win, so the order matters).
type imdsToken struct {
	AccessToken  string `json:"access_token"`
	ClientID     string `json:"client_id"`
	ExpiresIn    string `json:"expires_in"`
	ExpiresOn    string `json:"expires_on"`
	ExtExpiresIn string `json:"ext_expires_in"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	TokenType    string `json:"token_type"`
}

func newIMDSToken(t tokens.Token, now time.Time) imdsToken {
	in := int64(t.ExpiresOn.Sub(now) / time.Second)
	if in < 0 {
		in = 0
	}
	nbf := t.NotBefore
	if nbf.IsZero() {
		nbf = now
	}
	typ := t.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	inS := strconv.FormatInt(in, 10)
	return imdsToken{
		AccessToken:  t.AccessToken,
		ClientID:     t.ClientID,
		ExpiresIn:    inS,
		ExpiresOn:    strconv.FormatInt(t.ExpiresOn.Unix(), 10),
		ExtExpiresIn: inS,
		NotBefore:    strconv.FormatInt(nbf.Unix(), 10),
		Resource:     t.Resource,
		TokenType:    typ,
	}
}

// hostToken is the /host/token body of aad-pod-identity.
type hostToken struct {
	Token    imdsToken `json:"token"`
	ClientID string    `json:"clientid"`
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

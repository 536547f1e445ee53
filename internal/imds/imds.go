// Package imds is the wire format of the Azure Instance Metadata Service's
// managed-identity token endpoint. The node agent answers pods with it and
// the embedded cloud emulates each VM's IMDS with it; sharing one type keeps
// the two byte-compatible with real IMDS, and with each other.
package imds

import (
	"strconv"
	"time"
)

// Token is the success body. Every value is a string and the fields come in
// the order real IMDS sends them: MSAL.NET lets the later of expires_in and
// expires_on win, and older Python clients need resource.
type Token struct {
	AccessToken  string `json:"access_token"`
	ClientID     string `json:"client_id"`
	ExpiresIn    string `json:"expires_in"`
	ExpiresOn    string `json:"expires_on"`
	ExtExpiresIn string `json:"ext_expires_in"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	TokenType    string `json:"token_type"`
}

// NewToken builds the body for an access token valid until expiresOn, as
// of now. A zero notBefore means now; an empty tokenType means Bearer, the
// only type MSAL's cache accepts.
func NewToken(accessToken, clientID, resource, tokenType string, expiresOn, notBefore, now time.Time) Token {
	v := validityOf(expiresOn, notBefore, now)
	inS := strconv.FormatInt(v.in, 10)
	return Token{
		AccessToken:  accessToken,
		ClientID:     clientID,
		ExpiresIn:    inS,
		ExpiresOn:    strconv.FormatInt(v.on, 10),
		ExtExpiresIn: inS,
		NotBefore:    strconv.FormatInt(v.nbf, 10),
		Resource:     resource,
		TokenType:    tokenTypeOr(tokenType),
	}
}

// validity is a token's times as IMDS states them, in seconds.
type validity struct{ in, on, nbf int64 }

func validityOf(expiresOn, notBefore, now time.Time) validity {
	if notBefore.IsZero() {
		notBefore = now
	}
	return validity{in: max(int64(expiresOn.Sub(now)/time.Second), 0), on: expiresOn.Unix(), nbf: notBefore.Unix()}
}

func tokenTypeOr(tokenType string) string {
	if tokenType == "" {
		return "Bearer"
	}
	return tokenType
}

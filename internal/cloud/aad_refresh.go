package cloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// refreshTokenIdle is how long an unused refresh token stays valid; using
// it returns a fresh one, so an active sign-in never lapses.
const refreshTokenIdle = 90 * 24 * time.Hour

// refreshGrant is what a refresh token stands for: a person signed in to a
// client. It is sealed into an opaque string, so the cloud keeps no table
// of refresh tokens and they survive restarts that keep the signing key.
type refreshGrant struct {
	TenantID string `json:"t"`
	ObjectID string `json:"o"`
	ClientID string `json:"c"`
	Issued   int64  `json:"i"`
}

// refreshSealer seals and opens refresh tokens with a key derived from the
// token signing key.
type refreshSealer struct{ key []byte }

func (c *Cloud) refreshTokens() refreshSealer {
	mac := hmac.New(sha256.New, []byte("podid refresh tokens v1"))
	mac.Write(c.pki.signKey.D.Bytes())
	return refreshSealer{key: mac.Sum(nil)}
}

// refreshPrefix marks the format of the sealed tokens.
const refreshPrefix = "1"

func (s refreshSealer) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s refreshSealer) seal(g refreshGrant) string {
	b, _ := json.Marshal(g)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return refreshPrefix + "." + payload + "." + s.mac(payload)
}

// open returns the grant of a token this cloud sealed; ok is false for
// anything else.
func (s refreshSealer) open(tok string) (refreshGrant, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != refreshPrefix || !constantTimeEqual(s.mac(parts[1]), parts[2]) {
		return refreshGrant{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return refreshGrant{}, false
	}
	var g refreshGrant
	if json.Unmarshal(b, &g) != nil || g.ObjectID == "" || g.ClientID == "" {
		return refreshGrant{}, false
	}
	return g, true
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

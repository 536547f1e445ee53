package cloud

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Access-token lifetimes, as Azure issues them.
const (
	aadTokenLifetime  = time.Hour
	imdsTokenLifetime = 24 * time.Hour
)

func (c *Cloud) issuer(tenant string) string { return c.baseURL + "/" + tenant + "/v2.0" }

// issueToken signs an access token for p with audience aud. acr is the
// appidacr value: "1" secret, "2" certificate or assertion / managed identity.
func (c *Cloud) issueToken(p Principal, aud, acr string, life time.Duration) (string, time.Time, error) {
	now := c.now().Truncate(time.Second)
	exp := now.Add(life)
	claims := jwt.MapClaims{
		"aud": aud, "iss": c.issuer(p.TenantID), "iat": now.Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": exp.Unix(),
		"appid": p.ClientID, "azp": p.ClientID, "appidacr": acr, "azpacr": acr, "idtyp": "app",
		"oid": p.ObjectID, "sub": p.ObjectID, "tid": p.TenantID, "uti": uuid.NewString(), "ver": "2.0",
	}
	if p.Managed {
		claims["xms_mirid"] = p.ResourceID
	}
	for k, v := range c.appGroupClaims(p, aud) {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = c.pki.kid
	s, err := tok.SignedString(c.pki.signKey)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// tokenClaims are the claims the cloud reads back from its own tokens.
type tokenClaims struct {
	Audience string
	Issuer   string
	TenantID string
	ObjectID string
	AppID    string
}

// Bearer-token failures, mapped to ARM and Key Vault error codes.
var (
	errNoBearer      = errors.New("the 'Authorization' header is missing")
	errBadToken      = errors.New("the access token is invalid")
	errExpiredToken  = errors.New("the access token has expired")
	errWrongAudience = errors.New("the access token audience is not accepted")
)

// verifyBearer checks the request's bearer token against the signing key and
// one of audiences. The returned error is one of the errors above.
func (c *Cloud) verifyBearer(r *http.Request, audiences ...string) (tokenClaims, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return tokenClaims{}, errNoBearer
	}
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return tokenClaims{}, errBadToken
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &c.pki.signKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(c.now), jwt.WithExpirationRequired())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return tokenClaims{}, errExpiredToken
	case err != nil:
		return tokenClaims{}, errBadToken
	}
	tc := tokenClaims{}
	tc.Audience, _ = claims["aud"].(string)
	tc.Issuer, _ = claims["iss"].(string)
	tc.TenantID, _ = claims["tid"].(string)
	tc.ObjectID, _ = claims["oid"].(string)
	tc.AppID, _ = claims["appid"].(string)
	for _, a := range audiences {
		if tc.Audience == a {
			return tc, nil
		}
	}
	return tc, errWrongAudience
}

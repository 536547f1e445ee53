package cloud

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxSkew is the clock skew Azure AD tolerates on an assertion's nbf.
const maxSkew = 5 * time.Minute

// checkAssertion validates a client assertion: a certificate assertion when
// it is self-issued (iss == client_id), a federated one otherwise.
func (c *Cloud) checkAssertion(ctx context.Context, assertion string, p Principal, certs []CertificateCredential, endpoints []string) *aadError {
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(assertion, claims)
	if err != nil {
		return errMalformedAssertion("The assertion could not be parsed.")
	}
	iss, _ := claims.GetIssuer()
	sub, _ := claims.GetSubject()
	aud, _ := claims.GetAudience()
	if aerr := c.checkTimes(claims); aerr != nil {
		return aerr
	}
	if strings.EqualFold(iss, p.ClientID) {
		return c.checkCertAssertion(assertion, tok, p, sub, aud, certs, endpoints)
	}
	if !ficMatches(p.Federated, iss, sub, aud) {
		return errNoFederatedMatch(iss, sub, strings.Join(aud, ","))
	}
	kid, _ := tok.Header["kid"].(string)
	key, ok, err := c.issuerKeys.lookup(ctx, iss, kid, c.now, c.fetchIssuerKeys)
	if err != nil {
		return errIssuerUnreachable(iss, err)
	}
	if !ok {
		return errSignature(fmt.Sprintf("The key was not found. Key id '%s' is not published by issuer '%s'.", kid, iss))
	}
	if _, err := jwt.Parse(assertion, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()); err != nil {
		return errSignature("The signature is invalid.")
	}
	return nil
}

func (c *Cloud) checkTimes(claims jwt.MapClaims) *aadError {
	now := c.now()
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return errMalformedAssertion("The assertion has no 'exp' claim.")
	}
	var nbf time.Time
	if n, _ := claims.GetNotBefore(); n != nil {
		nbf = n.Time
	}
	if !now.Before(exp.Time) || (!nbf.IsZero() && nbf.After(now.Add(maxSkew))) {
		return errAssertionTime(now, nbf, exp.Time)
	}
	return nil
}

// ficMatches is the exact, case-sensitive issuer/subject/audience match.
func ficMatches(fics []FederatedCredential, iss, sub string, aud []string) bool {
	for _, f := range fics {
		if f.Issuer != iss || f.Subject != sub {
			continue
		}
		for _, a := range f.Audiences {
			if slices.Contains(aud, a) {
				return true
			}
		}
	}
	return false
}

func (c *Cloud) checkCertAssertion(assertion string, tok *jwt.Token, p Principal, sub string, aud []string, certs []CertificateCredential, endpoints []string) *aadError {
	if sub != p.ClientID {
		return newAADError(http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(endpoints, a) }) {
		return newAADError(http.StatusUnauthorized, "invalid_client", 50027, "Invalid JWT token. The audience claim of the client assertion '%s' is not the token endpoint.", strings.Join(aud, ","))
	}
	t1, _ := tok.Header["x5t"].(string)
	t256, _ := tok.Header["x5t#S256"].(string)
	for _, cc := range certs {
		if !thumbprintMatches(t1, cc.DER, false) && !thumbprintMatches(t256, cc.DER, true) {
			continue
		}
		cert, err := parseCert(cc.DER)
		if err != nil {
			continue
		}
		if !cc.End.IsZero() && !c.now().Before(cc.End) {
			return errCertExpired(p.ClientID, cert, cc.End)
		}
		if _, err := jwt.Parse(assertion, func(*jwt.Token) (any, error) { return cert.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithoutClaimsValidation()); err != nil {
			return errSignature("The signature is invalid.")
		}
		return nil
	}
	return errCertNotRegistered(p.ClientID)
}

// fetchIssuerKeys reads iss's OIDC discovery document and JWKS over HTTPS.
func (c *Cloud) fetchIssuerKeys(ctx context.Context, iss string) (map[string]*rsa.PublicKey, error) {
	if !strings.HasPrefix(iss, "https://") {
		return nil, errors.New("the issuer must be an https URL")
	}
	var disco struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := c.getJSON(ctx, strings.TrimSuffix(iss, "/")+"/.well-known/openid-configuration", &disco); err != nil {
		return nil, err
	}
	if disco.Issuer != iss {
		return nil, fmt.Errorf("discovery document issuer '%s' does not equal the assertion issuer", disco.Issuer)
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := c.getJSON(ctx, disco.JWKSURI, &set); err != nil {
		return nil, err
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			continue
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}

func (c *Cloud) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request for %s: %w", url, err)
	}
	resp, err := c.fetchClient().Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}

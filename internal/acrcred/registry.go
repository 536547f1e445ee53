package acrcred

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// userAgent names the provider to the registry.
const userAgent = "podid-acr-credential-provider"

// maxRegistryBody bounds what is read from a registry answer (ACR's own
// provider reads up to 10 MB of an exchange answer).
const maxRegistryBody = 10 << 20

// ChallengeInfo is the Bearer challenge of a registry's GET /v2/.
type ChallengeInfo struct {
	// Realm is the token endpoint URL, https://<host>/oauth2/token on ACR.
	Realm string
	// Service is the name tokens are requested for: the login server.
	Service string
}

// ParseChallenge reads a Www-Authenticate value: Bearer with
// comma-separated key="value" parameters, of which realm and service must
// be present.
func ParseChallenge(h string) (ChallengeInfo, error) {
	scheme, params, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ChallengeInfo{}, fmt.Errorf("the challenge %q is not Bearer; the registry does not support Azure AD login", h)
	}
	var c ChallengeInfo
	for _, p := range splitParams(params) {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "realm":
			c.Realm = v
		case "service":
			c.Service = v
		}
	}
	if c.Realm == "" || c.Service == "" {
		return ChallengeInfo{}, fmt.Errorf("the challenge %q lacks realm or service; the registry does not support Azure AD login", h)
	}
	u, err := url.Parse(c.Realm)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ChallengeInfo{}, fmt.Errorf("the challenge's realm %q is not an https URL", c.Realm)
	}
	return c, nil
}

// splitParams splits on commas outside double quotes (scopes hold commas).
func splitParams(s string) []string {
	var out []string
	quoted, start := false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// RegistryError is a registry answer other than the one expected.
type RegistryError struct {
	// Call names the request: "GET https://x.azurecr.io/v2/".
	Call string
	// Status is the HTTP status.
	Status int
	// Code and Message are the first entry of ACR's {"errors":[...]} body.
	Code, Message string
	// Body is the raw body when it is not ACR's error JSON.
	Body string
}

func (e *RegistryError) Error() string {
	switch {
	case e.Code != "":
		return fmt.Sprintf("%s answered %d %s: %s", e.Call, e.Status, e.Code, e.Message)
	case e.Body != "":
		return fmt.Sprintf("%s answered %d: %s", e.Call, e.Status, e.Body)
	}
	return fmt.Sprintf("%s answered %d", e.Call, e.Status)
}

func registryError(call string, resp *http.Response, body []byte) *RegistryError {
	e := &RegistryError{Call: call, Status: resp.StatusCode}
	var b struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &b) == nil && len(b.Errors) > 0 {
		e.Code, e.Message = b.Errors[0].Code, b.Errors[0].Message
		return e
	}
	e.Body = strings.TrimSpace(string(body))
	if len(e.Body) > 512 {
		e.Body = e.Body[:512] + "…"
	}
	return e
}

// registryClient speaks ACR's token protocol and fetches manifests.
type registryClient struct {
	hc *http.Client
}

func (c *registryClient) do(req *http.Request) (*http.Response, []byte, error) {
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRegistryBody))
	if err != nil {
		return nil, nil, fmt.Errorf("read answer of %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	return resp, b, nil
}

// Challenge is GET https://<loginServer>/v2/, which must answer 401 with
// a Bearer challenge.
func (c *registryClient) Challenge(ctx context.Context, loginServer string) (ChallengeInfo, error) {
	u := "https://" + loginServer + "/v2/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ChallengeInfo{}, fmt.Errorf("build challenge request: %w", err)
	}
	resp, body, err := c.do(req)
	if err != nil {
		return ChallengeInfo{}, fmt.Errorf("reach registry endpoint %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return ChallengeInfo{}, registryError("GET "+u, resp, body)
	}
	h := resp.Header.Values("Www-Authenticate")
	if len(h) != 1 {
		return ChallengeInfo{}, fmt.Errorf("GET %s answered 401 with %d Www-Authenticate headers, want exactly one", u, len(h))
	}
	return ParseChallenge(h[0])
}

// endpoint is the realm's scheme and host with path.
func endpoint(ch ChallengeInfo, path string) string {
	u, _ := url.Parse(ch.Realm)
	return u.Scheme + "://" + u.Host + path
}

// Exchange trades an Azure AD access token for an ACR refresh token at
// the realm host's /oauth2/exchange; tenant may be empty (the token's tid
// then decides). It returns the refresh token and its expiry (zero when
// the token does not say).
func (c *registryClient) Exchange(ctx context.Context, ch ChallengeInfo, tenant, aadToken string) (string, time.Time, error) {
	u := endpoint(ch, "/oauth2/exchange")
	form := url.Values{"grant_type": {"access_token"}, "service": {ch.Service}, "access_token": {aadToken}}
	if tenant != "" {
		form.Set("tenant", tenant)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("build exchange request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err := c.do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("reach %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, registryError("POST "+u, resp, body)
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.RefreshToken == "" {
		return "", time.Time{}, fmt.Errorf("POST %s answered 200 without a refresh_token", u)
	}
	return out.RefreshToken, expiryOf(out.RefreshToken), nil
}

// AccessToken asks the realm for a token for scope with the refresh token,
// as containerd does: GET with Basic authentication of the null GUID.
func (c *registryClient) AccessToken(ctx context.Context, ch ChallengeInfo, refreshToken, scope string) (string, error) {
	q := url.Values{"service": {ch.Service}, "scope": {scope}}
	u := endpoint(ch, "/oauth2/token")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("build token request: %w", err)
	}
	req.SetBasicAuth(NullUsername, refreshToken)
	resp, body, err := c.do(req)
	if err != nil {
		return "", fmt.Errorf("reach %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", registryError("GET "+u+"?"+q.Encode(), resp, body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("GET %s answered 200 without an access_token", u)
	}
	return out.AccessToken, nil
}

// manifestTypes are the manifest media types a runtime accepts.
var manifestTypes = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// Manifest fetches the manifest of im with the access token and returns
// its digest. It uses GET, not HEAD, so a refusal carries ACR's error body.
func (c *registryClient) Manifest(ctx context.Context, im Image, accessToken string) (string, error) {
	u := "https://" + im.Registry + "/v2/" + im.Repository + "/manifests/" + im.Reference
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("build manifest request: %w", err)
	}
	req.Header.Set("Accept", manifestTypes)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, body, err := c.do(req)
	if err != nil {
		return "", fmt.Errorf("reach %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", registryError("GET "+u, resp, body)
	}
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// expiryOf reads the exp claim of a JWT without checking it; zero when
// the token is not a JWT or has none. Only the cache duration depends on it.
func expiryOf(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}

// AsRegistryError returns the *RegistryError in err's chain.
func AsRegistryError(err error) (*RegistryError, bool) {
	var re *RegistryError
	ok := errors.As(err, &re)
	return re, ok
}

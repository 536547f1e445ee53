package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponse bounds what the token endpoint may send back.
const maxResponse = 1 << 20

// deviceCodeGrant is RFC 8628's grant type, which Azure AD accepts.
const deviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code"

// Token is an access token and what renews it.
type Token struct {
	AccessToken string    `json:"accessToken"`
	ExpiresOn   time.Time `json:"expiresOn"`
	// RefreshToken is empty for service principals.
	RefreshToken string `json:"refreshToken,omitempty"`
}

// DeviceCode is the device authorization endpoint's answer.
type DeviceCode struct {
	DeviceCode string `json:"device_code"`
	UserCode   string `json:"user_code"`
	// Message is what to tell the person ("To sign in, use a web browser
	// to open the page ... and enter the code ... to authenticate.").
	Message   string `json:"message"`
	ExpiresIn int    `json:"expires_in"`
	Interval  int    `json:"interval"`
}

// AADError is an error answer of Azure AD's token endpoints.
type AADError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *AADError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Description)
}

// Client calls one tenant's Azure AD v2 endpoints under Authority.
type Client struct {
	// Authority is the authority host, https://host[:port]/.
	Authority string
	TenantID  string
	HTTP      *http.Client
	Now       func() time.Time
	// Wait sleeps between device code polls; tests make it instant.
	Wait func(ctx context.Context, d time.Duration) error
}

func (c *Client) endpoint(name string) string {
	return strings.TrimSuffix(c.Authority, "/") + "/" + url.PathEscape(c.TenantID) + "/oauth2/v2.0/" + name
}

// StartDeviceCode asks for a device code for clientID and scopes.
func (c *Client) StartDeviceCode(ctx context.Context, clientID string, scopes []string) (DeviceCode, error) {
	var dc DeviceCode
	form := url.Values{"client_id": {clientID}, "scope": {strings.Join(scopes, " ")}}
	if err := c.post(ctx, c.endpoint("devicecode"), form, &dc); err != nil {
		return DeviceCode{}, fmt.Errorf("start device code sign-in: %w", err)
	}
	return dc, nil
}

// PollDeviceCode polls until the person approves dc, declines it, or it
// expires. It polls every second, the cloud's shortest gap, rather than
// at dc.Interval (5 s), as MSAL does not wait for the interval either,
// and slows down by a second whenever asked to.
func (c *Client) PollDeviceCode(ctx context.Context, clientID string, dc DeviceCode) (Token, error) {
	gap := time.Second
	deadline := c.Now().Add(time.Duration(dc.ExpiresIn) * time.Second)
	form := url.Values{"grant_type": {deviceCodeGrant}, "client_id": {clientID}, "device_code": {dc.DeviceCode}, "client_info": {"1"}}
	for {
		if err := c.Wait(ctx, gap); err != nil {
			return Token{}, fmt.Errorf("wait for the device code sign-in: %w", err)
		}
		t, err := c.token(ctx, form)
		var aerr *AADError
		switch {
		case err == nil:
			return t, nil
		case errors.As(err, &aerr) && aerr.Code == "authorization_pending":
		case errors.As(err, &aerr) && aerr.Code == "slow_down":
			gap += time.Second
		default:
			return Token{}, fmt.Errorf("device code sign-in: %w", err)
		}
		if c.Now().After(deadline) {
			return Token{}, fmt.Errorf("device code sign-in: code %s expired before anyone approved it", dc.UserCode)
		}
	}
}

// Refresh redeems a refresh token for new tokens.
func (c *Client) Refresh(ctx context.Context, clientID, refreshToken string, scopes []string) (Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {refreshToken},
		"scope": {strings.Join(scopes, " ")}, "client_info": {"1"}}
	t, err := c.token(ctx, form)
	if err != nil {
		return Token{}, fmt.Errorf("redeem refresh token: %w", err)
	}
	return t, nil
}

// ClientCredentials signs a service principal in with its secret.
func (c *Client) ClientCredentials(ctx context.Context, clientID, secret, scope string) (Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	t, err := c.token(ctx, form)
	if err != nil {
		return Token{}, fmt.Errorf("sign in service principal %s: %w", clientID, err)
	}
	return t, nil
}

func (c *Client) token(ctx context.Context, form url.Values) (Token, error) {
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}
	if err := c.post(ctx, c.endpoint("token"), form, &out); err != nil {
		return Token{}, err
	}
	if out.AccessToken == "" {
		return Token{}, errors.New("the token endpoint answered no access_token")
	}
	return Token{AccessToken: out.AccessToken, RefreshToken: out.RefreshToken, ExpiresOn: c.Now().Add(time.Duration(out.ExpiresIn) * time.Second)}, nil
}

// post sends form and decodes a 200 answer into out, or returns the
// AADError of any other.
func (c *Client) post(ctx context.Context, u string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("read %s answer: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		aerr := &AADError{Status: resp.StatusCode}
		if json.Unmarshal(body, aerr) != nil || aerr.Code == "" {
			return fmt.Errorf("POST %s: %s", u, resp.Status)
		}
		return aerr
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s answer: %w", u, err)
	}
	return nil
}

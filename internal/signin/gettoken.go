package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// renewBefore is how long before expiry a cached access token is renewed,
// so kubectl never sends one that expires on the way.
const renewBefore = 5 * time.Minute

// Request is one get-token call, from flags and environment.
type Request struct {
	// Login is LoginDeviceCode or LoginSPN.
	Login string
	// ServerID is the resource; ClientID the client signing in: the AKS
	// client app for people, the service principal's app ID for spn.
	ServerID, ClientID, TenantID string
	// ClientSecret is the service principal's secret (spn).
	ClientSecret string
	// CacheDir keeps a person's tokens; empty disables the cache.
	CacheDir string
}

// FromEnv applies kubelogin's environment variables to r: AAD_LOGIN_METHOD
// overrides the login, and for spn AAD_SERVICE_PRINCIPAL_CLIENT_ID/_SECRET
// then AZURE_CLIENT_ID/_SECRET (which win) give the service principal.
func FromEnv(r Request, getenv func(string) string) Request {
	if m := getenv("AAD_LOGIN_METHOD"); m != "" {
		r.Login = m
	}
	if r.Login != LoginSPN {
		return r
	}
	for _, names := range [][2]string{{"AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"}, {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"}} {
		if v := getenv(names[0]); v != "" {
			r.ClientID = v
		}
		if v := getenv(names[1]); v != "" {
			r.ClientSecret = v
		}
	}
	return r
}

// Validate says what a request lacks.
func (r Request) Validate() error {
	var errs []error
	if r.ServerID == "" || r.TenantID == "" {
		errs = append(errs, errors.New("--server-id and --tenant-id are required"))
	}
	switch r.Login {
	case LoginDeviceCode:
		if r.ClientID == "" {
			errs = append(errs, errors.New("--client-id is required for devicecode (the AKS client app, 80faf920-1908-4b52-b5ef-a8e7bedfc67a)"))
		}
	case LoginSPN:
		if r.ClientID == "" || r.ClientSecret == "" {
			errs = append(errs, errors.New("spn needs the service principal's client ID and secret: set AAD_SERVICE_PRINCIPAL_CLIENT_ID and AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"))
		}
	default:
		errs = append(errs, fmt.Errorf("--login %q: podid get-token supports %s and %s", r.Login, LoginDeviceCode, LoginSPN))
	}
	return errors.Join(errs...)
}

// scope is the resource's .default scope, as kubelogin asks for it.
func (r Request) scope() string { return strings.TrimSuffix(r.ServerID, "/") + "/.default" }

// Get returns an access token for r: for a person the cached one while it
// is fresh, else one renewed with the cached refresh token, else a new
// device code sign-in whose message goes to prompt; for a service
// principal always a new client credentials token (kubelogin caches none).
func Get(ctx context.Context, c *Client, r Request, prompt io.Writer) (Token, error) {
	if r.Login == LoginSPN {
		return c.ClientCredentials(ctx, r.ClientID, r.ClientSecret, r.scope())
	}
	scopes := []string{r.scope(), "openid", "profile", "offline_access"}
	cache := Cache{Dir: r.CacheDir}
	key := []string{c.Authority, r.TenantID, r.ClientID, r.ServerID}
	if r.CacheDir != "" {
		t, ok, err := cache.Load(key...)
		if err != nil {
			return Token{}, err
		}
		if ok && t.ExpiresOn.After(c.Now().Add(renewBefore)) {
			return t, nil
		}
		if ok && t.RefreshToken != "" {
			if t, err := c.Refresh(ctx, r.ClientID, t.RefreshToken, scopes); err == nil {
				return t, cache.Save(t, key...)
			}
			// An expired or revoked refresh token: sign in again.
		}
	}
	dc, err := c.StartDeviceCode(ctx, r.ClientID, scopes)
	if err != nil {
		return Token{}, err
	}
	if _, err := fmt.Fprintln(prompt, dc.Message); err != nil {
		return Token{}, fmt.Errorf("print the device code: %w", err)
	}
	t, err := c.PollDeviceCode(ctx, r.ClientID, dc)
	if err != nil {
		return Token{}, err
	}
	if r.CacheDir == "" {
		return t, nil
	}
	return t, cache.Save(t, key...)
}

// ExecCredential is the plugin's answer on stdout, in the API version
// kubectl asked for in KUBERNETES_EXEC_INFO (execInfo; v1beta1 when it
// is empty, as kubelogin defaults).
func ExecCredential(t Token, execInfo string) ([]byte, error) {
	version := ExecV1beta1
	if execInfo != "" {
		var info struct {
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal([]byte(execInfo), &info); err != nil {
			return nil, fmt.Errorf("decode KUBERNETES_EXEC_INFO: %w", err)
		}
		if info.APIVersion != ExecV1 && info.APIVersion != ExecV1beta1 {
			return nil, fmt.Errorf("KUBERNETES_EXEC_INFO asks for %q; podid get-token speaks %s and %s", info.APIVersion, ExecV1, ExecV1beta1)
		}
		version = info.APIVersion
	}
	out := map[string]any{
		"kind": "ExecCredential", "apiVersion": version, "spec": map[string]any{},
		"status": map[string]any{"token": t.AccessToken, "expirationTimestamp": t.ExpiresOn.UTC().Format(time.RFC3339)},
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode ExecCredential: %w", err)
	}
	return b, nil
}

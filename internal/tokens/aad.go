package tokens

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAuthorityHost is Azure AD of the public cloud.
const DefaultAuthorityHost = "https://login.microsoftonline.com/"

// AADOptions configure the sources that call the AAD v2 token endpoint.
type AADOptions struct {
	// AuthorityHost is the AAD base URL; it must be https. Empty means
	// DefaultAuthorityHost.
	AuthorityHost string
	// TenantID is used for identities that carry none (managed identities
	// in federated mode).
	TenantID string
	// Client sends the requests; nil means NewHTTPSClient(nil).
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewHTTPSClient returns a client that trusts roots (nil: the system pool)
// and does not follow redirects, as a token endpoint never needs them.
func NewHTTPSClient(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// aadClient posts client-credentials requests to the v2 token endpoint.
type aadClient struct {
	host   *url.URL
	tenant string
	client *http.Client
	now    func() time.Time
}

func newAADClient(o AADOptions) (*aadClient, error) {
	if o.AuthorityHost == "" {
		o.AuthorityHost = DefaultAuthorityHost
	}
	u, err := url.Parse(o.AuthorityHost)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("authority host %q is not a URL", o.AuthorityHost)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("authority host %q must use https", o.AuthorityHost)
	}
	if o.Client == nil {
		o.Client = NewHTTPSClient(nil)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &aadClient{host: u, tenant: o.TenantID, client: o.Client, now: o.Now}, nil
}

// tokenEndpoint is https://<host>/<tenant>/oauth2/v2.0/token.
func (a *aadClient) tokenEndpoint(id Identity) (string, error) {
	tenant := id.TenantID
	if tenant == "" {
		tenant = a.tenant
	}
	if tenant == "" {
		return "", errors.New("identity " + id.Name + " has no tenant ID and no default tenant is configured")
	}
	return strings.TrimSuffix(a.host.String(), "/") + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token", nil
}

// scope turns a v1 resource into the v2 scope, as MSAL does in reverse.
func scope(resource string) string { return resource + "/.default" }

// post sends the client-credentials grant; form carries the credential.
func (a *aadClient) post(ctx context.Context, endpoint string, req Request, form url.Values) (Token, error) {
	id := req.Identity
	form.Set("grant_type", "client_credentials")
	form.Set("client_id", id.ClientID)
	form.Set("scope", scope(req.Resource))
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("build AAD request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tok, err := exchange(a.client, hr, a.now, req)
	if err != nil {
		return Token{}, fmt.Errorf("ask AAD for %s: %w", id.Name, err)
	}
	tok.Resource = req.Resource // AAD v2 does not echo it
	return tok, nil
}

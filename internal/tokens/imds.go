package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultIMDSEndpoint is the node's instance metadata service.
const DefaultIMDSEndpoint = "http://169.254.169.254"

// IMDSOptions configure NewIMDS.
type IMDSOptions struct {
	// Endpoint is the IMDS base URL; empty means DefaultIMDSEndpoint.
	Endpoint string
	// Client sends the requests; nil means a client without proxy, since
	// IMDS must never be reached through one.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type imdsSource struct {
	tokenURL *url.URL
	client   *http.Client
	now      func() time.Time
}

var _ TokenSource = (*imdsSource)(nil)

// NewIMDS returns a source that asks the node's IMDS for tokens of
// user-assigned managed identities on the node's VM or VMSS, naming the
// identity by msi_res_id when its resource ID is known, else by client_id.
func NewIMDS(opts IMDSOptions) (TokenSource, error) {
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultIMDSEndpoint
	}
	u, err := url.Parse(strings.TrimSuffix(opts.Endpoint, "/") + "/metadata/identity/oauth2/token")
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("IMDS endpoint %q is not a URL", opts.Endpoint)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Transport: &http.Transport{Proxy: nil}}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &imdsSource{tokenURL: u, client: opts.Client, now: opts.Now}, nil
}

func (s *imdsSource) Token(ctx context.Context, req Request) (Token, error) {
	id := req.Identity
	q := url.Values{"api-version": {"2018-02-01"}, "resource": {req.Resource}}
	switch {
	case id.ResourceID != "":
		q.Set("msi_res_id", id.ResourceID)
	case id.ClientID != "":
		q.Set("client_id", id.ClientID)
	default:
		return Token{}, errors.New("identity " + id.Name + " has neither a resource ID nor a client ID")
	}
	u := *s.tokenURL
	u.RawQuery = q.Encode()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Token{}, fmt.Errorf("build IMDS request: %w", err)
	}
	hr.Header.Set("Metadata", "true")
	tok, err := exchange(s.client, hr, s.now, req)
	if err != nil {
		return Token{}, fmt.Errorf("ask IMDS for %s: %w", id.Name, err)
	}
	return tok, nil
}

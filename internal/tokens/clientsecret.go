package tokens

import (
	"context"
	"fmt"
	"net/url"
)

// SecretFunc returns an identity's client secret.
type SecretFunc func(ctx context.Context, id Identity) (string, error)

type secretSource struct {
	aad    *aadClient
	secret SecretFunc
}

var _ TokenSource = (*secretSource)(nil)

// NewClientSecret returns a source for service principals with a client
// secret (AzureIdentity type 1).
func NewClientSecret(opts AADOptions, secret SecretFunc) (TokenSource, error) {
	a, err := newAADClient(opts)
	if err != nil {
		return nil, fmt.Errorf("client secret source: %w", err)
	}
	return &secretSource{aad: a, secret: secret}, nil
}

func (s *secretSource) Token(ctx context.Context, req Request) (Token, error) {
	endpoint, err := s.aad.tokenEndpoint(req.Identity)
	if err != nil {
		return Token{}, err
	}
	sec, err := s.secret(ctx, req.Identity)
	if err != nil {
		return Token{}, fmt.Errorf("get client secret of %s: %w", req.Identity.Name, err)
	}
	return s.aad.post(ctx, endpoint, req, url.Values{"client_secret": {sec}})
}

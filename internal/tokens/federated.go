package tokens

import (
	"context"
	"errors"
	"fmt"

	"github.com/podid/podid/internal/wi"
)

// FederatedAudience is the audience AAD expects of a Kubernetes
// service-account token used as client assertion.
const FederatedAudience = wi.Audience

// AssertionFunc returns a service-account token with audience
// FederatedAudience (from the TokenRequest API). It is called for every
// exchange; it may hand out one token many times, but never one near its
// expiry: AAD refuses assertions outside their validity window
// (AADSTS700024).
type AssertionFunc func(ctx context.Context) (string, error)

type federatedSource struct {
	aad       *aadClient
	assertion AssertionFunc
}

var _ TokenSource = (*federatedSource)(nil)

// NewFederated returns a source that exchanges the agent's own
// service-account token at AAD for a token of the identity's client ID.
// Each identity needs one federated credential naming the cluster's issuer
// and the agent's service account; nothing is written to the VMSS.
func NewFederated(opts AADOptions, assertion AssertionFunc) (TokenSource, error) {
	if assertion == nil {
		return nil, errors.New("federated source needs an assertion func")
	}
	a, err := newAADClient(opts)
	if err != nil {
		return nil, fmt.Errorf("federated source: %w", err)
	}
	return &federatedSource{aad: a, assertion: assertion}, nil
}

func (s *federatedSource) Token(ctx context.Context, req Request) (Token, error) {
	if req.Identity.ClientID == "" {
		return Token{}, errors.New("identity " + req.Identity.Name + " has no client ID to exchange for")
	}
	endpoint, err := s.aad.tokenEndpoint(req.Identity)
	if err != nil {
		return Token{}, err
	}
	jwt, err := s.assertion(ctx)
	if err != nil {
		return Token{}, fmt.Errorf("get service-account token: %w", err)
	}
	return s.aad.post(ctx, endpoint, req, assertionForm(jwt))
}

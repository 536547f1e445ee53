package acrcred

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/podid/podid/internal/tokens"
)

// ACRResource is the Azure AD resource of registry tokens; AKS's provider
// asks for it from v1.33 on (older ones sent Resource Manager tokens,
// which registries may refuse).
const ACRResource = "https://containerregistry.azure.net"

// Deps are the provider's connections to the world; nil fields are built
// from Options.
type Deps struct {
	// HTTPS reaches Azure AD and the registries.
	HTTPS *http.Client
	// IMDS reaches the instance metadata service.
	IMDS *http.Client
	// Lookup resolves a host name to addresses (check-acr's DNS step).
	Lookup func(ctx context.Context, host string) ([]string, error)
	// Now is the clock.
	Now func() time.Time
}

// Client gets registry credentials for the node's identity. It is safe
// for concurrent use.
type Client struct {
	cfg       AzureConfig
	opts      Options
	suffixes  []string
	mirrors   []Mirror
	tokens    tokens.TokenSource
	identity  tokens.Identity
	registry  *registryClient
	lookup    func(ctx context.Context, host string) ([]string, error)
	now       func() time.Time
	frontDoor string
}

// New builds a Client for the node described by cfg.
func New(cfg AzureConfig, o Options, d Deps) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env, _ := EnvironmentOf(cfg.Cloud)
	mirrors, err := ParseMirrors(o.RegistryMirror)
	if err != nil {
		return nil, err
	}
	if d.HTTPS == nil || d.IMDS == nil {
		https, imds, err := o.HTTPClients()
		if err != nil {
			return nil, err
		}
		if d.HTTPS == nil {
			d.HTTPS = https
		}
		if d.IMDS == nil {
			d.IMDS = imds
		}
	}
	if d.Lookup == nil {
		d.Lookup = net.DefaultResolver.LookupHost
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &Client{cfg: cfg, opts: o, suffixes: suffixesFor(env), mirrors: mirrors, registry: &registryClient{hc: d.HTTPS},
		lookup: d.Lookup, now: d.Now, frontDoor: o.FrontDoor}
	if cfg.ManagedIdentity() {
		c.identity = tokens.Identity{Name: "kubelet identity", ClientID: cfg.UserAssignedIdentityID, ResourceID: cfg.IdentityResourceID()}
		if c.identity.ResourceID != "" {
			c.identity.ClientID = ""
		}
		c.tokens, err = tokens.NewIMDS(tokens.IMDSOptions{Endpoint: o.IMDSEndpoint, Client: d.IMDS, Now: d.Now})
	} else {
		host := o.AuthorityHost
		if host == "" {
			host = env.AuthorityHost
		}
		c.identity = tokens.Identity{Name: "kubelet service principal", ClientID: cfg.AADClientID, TenantID: cfg.TenantID}
		secret := cfg.AADClientSecret
		c.tokens, err = tokens.NewClientSecret(tokens.AADOptions{AuthorityHost: host, TenantID: cfg.TenantID, Client: d.HTTPS, Now: d.Now},
			func(context.Context, tokens.Identity) (string, error) { return secret, nil })
	}
	if err != nil {
		return nil, fmt.Errorf("build token source: %w", err)
	}
	return c, nil
}

// Config is the azure.json the client was built from.
func (c *Client) Config() AzureConfig { return c.cfg }

// StepError is a failure of one step of the pull path.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string { return string(e.Step) + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

func stepErr(s Step, err error) error { return &StepError{Step: s, Err: err} }

// aadToken gets an Azure AD token for the registry resource as the node's
// identity.
func (c *Client) aadToken(ctx context.Context) (tokens.Token, error) {
	return c.tokens.Token(ctx, tokens.Request{Identity: c.identity, Resource: ACRResource})
}

// RefreshToken runs the provider's path for loginServer: challenge, Azure
// AD token, exchange. It returns the ACR refresh token, its expiry and the
// caller's object ID (from the Azure AD token; empty if unknown).
func (c *Client) RefreshToken(ctx context.Context, loginServer string) (rt string, exp time.Time, objectID string, err error) {
	ch, err := c.registry.Challenge(ctx, loginServer)
	if err != nil {
		return "", time.Time{}, "", stepErr(StepChallenge, err)
	}
	tok, err := c.aadToken(ctx)
	if err != nil {
		return "", time.Time{}, "", stepErr(StepAADToken, err)
	}
	objectID, _ = tokens.ObjectIDOf(tok.AccessToken)
	rt, exp, err = c.registry.Exchange(ctx, ch, c.cfg.TenantID, tok.AccessToken)
	if err != nil {
		return "", time.Time{}, objectID, stepErr(StepExchange, err)
	}
	return rt, exp, objectID, nil
}

// facts describes the client and target for Explain.
func (c *Client) facts(loginServer string, im Image, objectID string) Facts {
	f := Facts{LoginServer: loginServer, Registry: strings.SplitN(loginServer, ".", 2)[0], Image: im, ObjectID: objectID,
		Managed: c.cfg.ManagedIdentity(), ClientID: c.cfg.AADClientID, IMDSEndpoint: c.opts.IMDSEndpoint}
	if f.Managed {
		f.ClientID = c.cfg.UserAssignedIdentityID
	}
	return f
}

package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/podid/podid/internal/tokens"
)

// PathPolicy says what happens to a request the agent does not answer itself.
type PathPolicy string

const (
	// Block answers 403.
	Block PathPolicy = "block"
	// Proxy forwards the request, from a known non-hostNetwork pod only,
	// to the node's IMDS.
	Proxy PathPolicy = "proxy"
)

// Defaults of Options.
const (
	DefaultAssignmentWait = 2 * time.Second
	DefaultRetryAfter     = 5 * time.Second
	DefaultNewPodGrace    = 2 * time.Minute
	DefaultTokenTimeout   = 30 * time.Second
	// MaxRetryAfter is the largest Retry-After azidentity still honours by
	// retrying; above it, it gives up at once.
	MaxRetryAfter = 25 * time.Second
)

// Options configure the token server.
type Options struct {
	// Tokens gets tokens; normally a *tokens.Cache. Required.
	Tokens tokens.TokenSource
	// Pods resolves callers. Required.
	Pods PodResolver
	// Identities lists a pod's assignments. Required.
	Identities IdentityLister
	// NodeIMDS is the node's IMDS base URL (http://169.254.169.254), used
	// for exempt pods and proxied paths. Nil blocks them all.
	NodeIMDS *url.URL
	// ProxyTransport carries proxied requests; nil uses a default transport.
	ProxyTransport http.RoundTripper
	// InstanceMetadata is the policy for /metadata/instance (default Block).
	InstanceMetadata PathPolicy
	// OtherPaths is the policy for every other path (default Block).
	OtherPaths PathPolicy
	// AssignmentWait bounds how long a request waits for an assignment or
	// caller to appear or become ready; 0 answers at once.
	AssignmentWait time.Duration
	// RetryAfter is sent with 503 answers; 1 s to MaxRetryAfter.
	RetryAfter time.Duration
	// NewPodGrace: a pod younger than this without the identity it asks
	// for gets 503 (retry) rather than 400; 0 gives every pod 400 at once.
	NewPodGrace time.Duration
	// TokenTimeout bounds the token source call.
	TokenTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger logs one line per request; default slog.Default().
	Logger *slog.Logger
	// Metrics records requests; nil records nothing.
	Metrics *Metrics
	// PodLimits bound each pod's token requests; the zero value disables
	// them.
	PodLimits PodLimits
	// HostCallers admits /host/token callers; nil refuses them all.
	HostCallers HostCallers
}

func (o *Options) defaults() error {
	if o.Tokens == nil || o.Pods == nil || o.Identities == nil {
		return errors.New("tokens, pods and identities are required")
	}
	if o.InstanceMetadata == "" {
		o.InstanceMetadata = Block
	}
	if o.OtherPaths == "" {
		o.OtherPaths = Block
	}
	for _, p := range []PathPolicy{o.InstanceMetadata, o.OtherPaths} {
		if p != Block && p != Proxy {
			return fmt.Errorf("path policy %q: want %q or %q", p, Block, Proxy)
		}
	}
	if o.PodLimits.Rate < 0 || o.PodLimits.Burst < 0 || o.PodLimits.InFlight < 0 {
		return errors.New("pod limits must not be negative")
	}
	if o.AssignmentWait < 0 {
		return errors.New("assignment wait must not be negative")
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	if o.RetryAfter < time.Second || o.RetryAfter > MaxRetryAfter {
		return fmt.Errorf("retry-after %s: want 1s to %s, clients stop retrying above", o.RetryAfter, MaxRetryAfter)
	}
	if o.TokenTimeout == 0 {
		o.TokenTimeout = DefaultTokenTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"time"

	"github.com/podid/podid/internal/tokens"
)

const (
	tokenPath    = "/identity/oauth2/token"
	hostTokenURL = "/host/token"
)

type server struct {
	opts   Options
	proxy  *httputil.ReverseProxy
	limits *podLimiter
}

// New returns the agent's IMDS-compatible handler, wrapped in the logging
// and metrics middleware.
func New(opts Options) (http.Handler, error) {
	if err := opts.defaults(); err != nil {
		return nil, fmt.Errorf("token server options: %w", err)
	}
	s := &server{opts: opts, limits: newPodLimiter(opts.PodLimits, opts.Now)}
	if opts.NodeIMDS != nil {
		target := opts.NodeIMDS
		s.proxy = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = target.Host
			},
			Transport: opts.ProxyTransport,
		}
	}
	return chain(s, withObservation(opts.Logger, opts.Metrics, opts.Now), withRecovery(opts.Logger)), nil
}

// ServeHTTP routes on classifyPath, the one reading of the path.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := routeOf(r.Context())
	switch classifyPath(r.URL.EscapedPath()) {
	case pathToken:
		rec.route = "token"
		s.token(w, r)
	case pathIMDSv2:
		rec.route = "imdsv2"
		s.refuse(w, r, &Refusal{Status: http.StatusNotFound, Reason: ReasonBlocked, Message: "IMDSv2 is not available on this node"})
	case pathIdentity:
		rec.route = "token"
		s.refuse(w, r, &Refusal{Status: http.StatusBadRequest, Reason: ReasonBadRequest,
			Message: "Invalid request: the token path is /metadata" + tokenPath})
	case pathHostToken:
		rec.route = "host_token"
		s.hostToken(w, r)
	case pathInstance:
		rec.route = "instance"
		s.passOn(w, r, s.opts.InstanceMetadata)
	case pathNonCanonical:
		rec.route = "other"
		s.refuse(w, r, &Refusal{Status: http.StatusBadRequest, Reason: ReasonBadRequest,
			Message: "Invalid request: the path is not in canonical form (no repeated or trailing slashes, dot segments, backslashes or escapes)"})
	default:
		rec.route = "other"
		s.passOn(w, r, s.opts.OtherPaths)
	}
}

// token answers the IMDS token endpoint.
func (s *server) token(w http.ResponseWriter, r *http.Request) {
	// The map directly: net/http has canonicalized the key, and Get's
	// own canonicalization was a tenth of the token handler's time.
	if v := r.Header["Metadata"]; len(v) == 0 || v[0] != "true" {
		s.refuse(w, r, &Refusal{Status: http.StatusBadRequest, Reason: ReasonMetadataHeader, Message: metadataHeaderMessage})
		return
	}
	resource, sel, ref := parseTokenQuery(parseQuery(r.URL.RawQuery))
	if ref != nil {
		s.refuse(w, r, ref)
		return
	}
	ctx := r.Context()
	wt := &waiter{limit: s.opts.AssignmentWait}
	defer wt.stop()
	caller, ref := s.resolve(ctx, r, wt)
	if ref != nil {
		s.refuse(w, r, ref)
		return
	}
	release, ref := s.limits.acquire(caller.Pod)
	if ref != nil {
		s.refuse(w, r, ref)
		return
	}
	defer release()
	if caller.Exempt {
		routeOf(ctx).reason = ReasonExempt
		s.forward(w, r)
		return
	}
	tok, _, ref := s.obtain(ctx, caller, sel, resource, wt)
	if ref != nil {
		s.refuse(w, r, ref)
		return
	}
	writeToken(w, tok, s.opts.Now())
}

// parseTokenQuery reads the resource and the identity selector.
func parseTokenQuery(q tokenQuery) (string, Selector, *Refusal) {
	resource := q.Resource
	if resource == "" {
		return "", Selector{}, &Refusal{Status: http.StatusBadRequest, Reason: ReasonResourceMissing, Message: "Required audience parameter not specified"}
	}
	sel, ref := selectorFrom(q)
	return resource, sel, ref
}

// resolve finds the calling pod, waiting for the pod index while the caller
// is unknown.
func (s *server) resolve(ctx context.Context, r *http.Request, wt *waiter) (Caller, *Refusal) {
	ip, err := remoteIP(r)
	if err != nil {
		return Caller{}, &Refusal{Status: http.StatusForbidden, Reason: ReasonUnknownCaller, Message: "cannot tell the caller's address"}
	}
	for {
		c, changed, err := s.opts.Pods.ResolveCaller(ctx, ip)
		var ref *Refusal
		switch {
		case err == nil:
			routeOf(ctx).pod = c.Pod.String()
			if c.HostNetwork && !c.Exempt {
				return c, &Refusal{Status: http.StatusForbidden, Reason: ReasonHostNetwork,
					Message: fmt.Sprintf("pod %s uses the host network, so its requests cannot be told apart from the node's and it gets no pod identity; run it without hostNetwork, or exempt it with an AzurePodIdentityException to use the node's own identities", c.Pod)}
			}
			return c, nil
		case errors.Is(err, ErrAmbiguousCaller):
			ref = &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonAmbiguousCaller,
				Message: fmt.Sprintf("several pods of this node have address %s; no token until only one does", ip)}
		default:
			ref = &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonUnknownCaller,
				Message: fmt.Sprintf("no running pod of this node has address %s; a new pod is retried shortly, anything else gets no token", ip)}
		}
		if !wt.wait(ctx, changed) {
			return Caller{}, ref
		}
	}
}

// obtain selects the identity, waiting while the answer may change, and
// gets its token. A request naming an object_id first learns the object
// IDs of the pod's identities (objectid.go).
func (s *server) obtain(ctx context.Context, caller Caller, sel Selector, resource string, wt *waiter) (tokens.Token, Assigned, *Refusal) {
	for {
		list, changed := s.opts.Identities.IdentitiesFor(ctx, caller.Pod)
		list, failed := s.learnObjectIDs(ctx, sel, list, resource)
		a, ref := selectIdentity(sel, caller.Pod, list)
		if ref == nil {
			return s.fetch(ctx, a, resource)
		}
		ref = objectIDRefusal(ref, failed)
		if !ref.Wait || !wt.wait(ctx, changed) {
			return tokens.Token{}, a, settle(ref, caller, s.opts.Now(), s.opts.NewPodGrace)
		}
	}
}

// freshSource is a token source that can answer from memory without a
// context (tokens.Cache): warm requests skip the timeout's timer.
type freshSource interface {
	Fresh(tokens.Request) (tokens.Token, bool)
}

func (s *server) fetch(ctx context.Context, a Assigned, resource string) (tokens.Token, Assigned, *Refusal) {
	rec := routeOf(ctx)
	rec.identity, rec.clientID, rec.resource = a.Identity.Name, a.Identity.ClientID, resource
	req := tokens.Request{Identity: a.Identity, Resource: resource}
	if f, ok := s.opts.Tokens.(freshSource); ok {
		if tok, ok := f.Fresh(req); ok {
			return tok, a, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TokenTimeout)
	defer cancel()
	tok, err := s.opts.Tokens.Token(ctx, req)
	if err == nil {
		return tok, a, nil
	}
	rec.err = err
	if tokens.Permanent(err) {
		return tok, a, &Refusal{Status: http.StatusBadRequest, Reason: ReasonTokenFailed,
			Message: fmt.Sprintf("getting a token for identity %s failed: %v", a.Identity.Name, err)}
	}
	return tok, a, &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonTokenFailed,
		Message: fmt.Sprintf("getting a token for identity %s failed, retry shortly: %v", a.Identity.Name, err)}
}

// waiter bounds the total time one request waits for changes; its timer
// starts at the first wait, so requests that never wait pay nothing.
type waiter struct {
	limit time.Duration
	timer *time.Timer
}

// wait blocks until changed is closed (true), or the request's wait budget
// or ctx ends (false).
func (wt *waiter) wait(ctx context.Context, changed <-chan struct{}) bool {
	if wt.limit <= 0 || changed == nil {
		return false
	}
	if wt.timer == nil {
		wt.timer = time.NewTimer(wt.limit)
	}
	select {
	case <-changed:
		return true
	case <-wt.timer.C:
		wt.limit = 0
		return false
	case <-ctx.Done():
		return false
	}
}

func (wt *waiter) stop() {
	if wt.timer != nil {
		wt.timer.Stop()
	}
}

// refuse writes a refusal as an IMDS error body.
func (s *server) refuse(w http.ResponseWriter, r *http.Request, ref *Refusal) {
	routeOf(r.Context()).reason = ref.Reason
	if ref.RetryAfter() {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.opts.RetryAfter/time.Second)))
	}
	writeJSON(w, ref.Status, errorBody{Error: errorCode(ref.Status), Description: ref.Message})
}

func remoteIP(r *http.Request) (netip.Addr, error) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("parse remote address %q: %w", r.RemoteAddr, err)
	}
	return ap.Addr().Unmap(), nil
}

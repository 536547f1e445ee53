package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"

	"sync/atomic"
	"time"

	"github.com/podid/podid/internal/agent/broadcast"
	"github.com/podid/podid/internal/tokens"
)

// fakeCluster is a PodResolver and IdentityLister over maps.
type fakeCluster struct {
	broadcast.Broadcast
	mu       sync.Mutex
	byIP     map[netip.Addr]Caller
	assigned map[PodRef][]Assigned
	// waited is signalled whenever a reader takes a change channel.
	waited chan struct{}
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{byIP: map[netip.Addr]Caller{}, assigned: map[PodRef][]Assigned{}}
}

func (f *fakeCluster) addPod(ip string, c Caller, as ...Assigned) {
	f.mu.Lock()
	f.byIP[netip.MustParseAddr(ip)] = c
	f.assigned[c.Pod] = as
	f.mu.Unlock()
	f.Notify()
}

func (f *fakeCluster) setAssigned(pod PodRef, as ...Assigned) {
	f.mu.Lock()
	f.assigned[pod] = as
	f.mu.Unlock()
	f.Notify()
}

func (f *fakeCluster) take() <-chan struct{} {
	ch := f.Current()
	if f.waited != nil {
		select {
		case f.waited <- struct{}{}:
		default:
		}
	}
	return ch
}

func (f *fakeCluster) ResolveCaller(_ context.Context, ip netip.Addr) (Caller, <-chan struct{}, error) {
	ch := f.take()
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byIP[ip]
	if !ok {
		return Caller{}, ch, ErrUnknownCaller
	}
	return c, ch, nil
}

func (f *fakeCluster) LookupPod(_ context.Context, pod PodRef) (Caller, <-chan struct{}, error) {
	ch := f.take()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.byIP {
		if c.Pod == pod {
			return c, ch, nil
		}
	}
	return Caller{}, ch, ErrUnknownCaller
}

func (f *fakeCluster) IdentitiesFor(_ context.Context, pod PodRef) ([]Assigned, <-chan struct{}) {
	ch := f.take()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.assigned[pod], ch
}

var (
	_ PodResolver    = (*fakeCluster)(nil)
	_ IdentityLister = (*fakeCluster)(nil)
)

// fakeJWT looks like an RS256 JWT.
func fakeJWT(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"k1"}`)) + "." +
		enc([]byte(fmt.Sprintf(`{"aud":"https://vault.azure.net","sub":%q,"tid":"t1"}`, sub))) + "." +
		enc(make([]byte, 256))
}

// fakeTokens issues a JWT for the identity's client ID and counts calls.
type fakeTokens struct {
	calls atomic.Int64
	now   func() time.Time
	err   error
}

func (f *fakeTokens) Token(_ context.Context, req tokens.Request) (tokens.Token, error) {
	f.calls.Add(1)
	if f.err != nil {
		return tokens.Token{}, f.err
	}
	now := f.now()
	return tokens.Token{AccessToken: fakeJWT(req.Identity.ClientID), ExpiresOn: now.Add(time.Hour), NotBefore: now,
		Resource: req.Resource, ClientID: req.Identity.ClientID, TokenType: "Bearer"}, nil
}

var _ tokens.TokenSource = (*fakeTokens)(nil)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// countingSource issues numbered tokens valid for lifetime from the clock's
// now; gate, when set, holds each call until it is closed.
type countingSource struct {
	clock    *fakeClock
	lifetime time.Duration
	calls    atomic.Int64
	fail     atomic.Bool
	gate     chan struct{}
	started  chan struct{}
}

func (s *countingSource) Token(ctx context.Context, req Request) (Token, error) {
	n := s.calls.Add(1)
	if s.started != nil {
		s.started <- struct{}{}
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
	if s.fail.Load() {
		return Token{}, &Error{Status: 500, Code: "unknown"}
	}
	return Token{AccessToken: fmt.Sprintf("tok-%d", n), ExpiresOn: s.clock.Now().Add(s.lifetime), Resource: req.Resource}, nil
}

var t0 = time.Unix(1_760_000_000, 0)

func newTestCache(t *testing.T, opts CacheOptions) (*Cache, *countingSource, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: t0}
	src := &countingSource{clock: clock, lifetime: time.Hour}
	opts.Now = clock.Now
	c, err := NewCache(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, src, clock
}

func req(identity, resource string) Request {
	return Request{Identity: Identity{Name: identity, ClientID: identity + "-client"}, Resource: resource}
}

func TestCacheCoalescesConcurrentIdenticalRequests(t *testing.T) {
	c, src, _ := newTestCache(t, CacheOptions{})
	src.gate = make(chan struct{})
	src.started = make(chan struct{}, 1)
	var wg sync.WaitGroup
	toks := make([]string, 100)
	errs := make([]error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Token(context.Background(), req("a", "r"))
			toks[i], errs[i] = tok.AccessToken, err
		}()
	}
	<-src.started // the one upstream call is under way
	close(src.gate)
	wg.Wait()
	for i := range 100 {
		if errs[i] != nil || toks[i] != "tok-1" {
			t.Fatalf("caller %d got %q, %v", i, toks[i], errs[i])
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("%d upstream calls, want 1", n)
	}
}

func TestCacheRefresh(t *testing.T) {
	cases := map[string]struct {
		lifetime  time.Duration // of each token
		at        time.Duration // when the second request comes, after t0
		failAgain bool          // the second upstream call fails
		wantToken string        // token of the second request, "" for an error
		wantCalls int64
	}{
		"a token well before its refresh point is served from the cache": {
			lifetime: time.Hour, at: 49 * time.Minute, wantToken: "tok-1", wantCalls: 1},
		"a token within ten minutes of expiry is renewed": {
			lifetime: time.Hour, at: 51 * time.Minute, wantToken: "tok-2", wantCalls: 2},
		"a short-lived token is renewed at half its lifetime": {
			lifetime: 10 * time.Minute, at: 6 * time.Minute, wantToken: "tok-2", wantCalls: 2},
		"a failed renewal serves the still valid token": {
			lifetime: time.Hour, at: 55 * time.Minute, failAgain: true, wantToken: "tok-1", wantCalls: 2},
		"a failed renewal of an expired token is an error": {
			lifetime: time.Hour, at: 61 * time.Minute, failAgain: true, wantCalls: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, src, clock := newTestCache(t, CacheOptions{})
			src.lifetime = tc.lifetime
			if _, err := c.Token(context.Background(), req("a", "r")); err != nil {
				t.Fatal(err)
			}
			clock.Set(t0.Add(tc.at))
			src.fail.Store(tc.failAgain)
			tok, err := c.Token(context.Background(), req("a", "r"))
			if tc.wantToken == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", tok.AccessToken)
				}
			} else if err != nil || tok.AccessToken != tc.wantToken {
				t.Fatalf("got %q, %v, want %q", tok.AccessToken, err, tc.wantToken)
			}
			if n := src.calls.Load(); n != tc.wantCalls {
				t.Fatalf("%d upstream calls, want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestCacheIsBoundedLeastRecentlyUsedFirst(t *testing.T) {
	c, src, _ := newTestCache(t, CacheOptions{MaxEntries: 2})
	ctx := context.Background()
	for _, r := range []string{"r1", "r2", "r1", "r3"} { // r2 is the least recently used when r3 comes
		if _, err := c.Token(ctx, req("a", r)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 2 {
		t.Fatalf("len %d", c.Len())
	}
	before := src.calls.Load()
	_, _ = c.Token(ctx, req("a", "r1"))
	if src.calls.Load() != before {
		t.Fatal("r1 was evicted, want r2")
	}
	_, _ = c.Token(ctx, req("a", "r2"))
	if src.calls.Load() != before+1 {
		t.Fatal("r2 was still cached")
	}
}

func TestCacheEvictForgetsOneIdentity(t *testing.T) {
	c, src, _ := newTestCache(t, CacheOptions{})
	ctx := context.Background()
	for _, r := range []Request{req("a", "r1"), req("a", "r2"), req("b", "r1")} {
		if _, err := c.Token(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Evict(req("a", "").Identity.Key()); n != 2 {
		t.Fatalf("evicted %d, want 2", n)
	}
	_, _ = c.Token(ctx, req("b", "r1"))
	if src.calls.Load() != 3 {
		t.Fatal("b's token was evicted too")
	}
	_, _ = c.Token(ctx, req("a", "r1"))
	if src.calls.Load() != 4 {
		t.Fatal("a's token was still cached")
	}
}

func TestCacheEvictDuringFetchDoesNotStoreTheResult(t *testing.T) {
	c, src, _ := newTestCache(t, CacheOptions{})
	src.gate = make(chan struct{})
	src.started = make(chan struct{}, 1)
	done := make(chan error)
	go func() { _, err := c.Token(context.Background(), req("a", "r")); done <- err }()
	<-src.started
	c.Evict(req("a", "").Identity.Key())
	close(src.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.Len() != 0 {
		t.Fatal("a token fetched before Evict was stored")
	}
}

func TestCacheCallerGivingUpDoesNotCancelTheSharedFetch(t *testing.T) {
	c, src, _ := newTestCache(t, CacheOptions{})
	src.gate = make(chan struct{})
	src.started = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error)
	go func() { _, err := c.Token(ctx, req("a", "r")); first <- err }()
	<-src.started
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want context.Canceled", err)
	}
	second := make(chan error)
	go func() { _, err := c.Token(context.Background(), req("a", "r")); second <- err }()
	close(src.gate)
	if err := <-second; err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if src.calls.Load() != 1 {
		t.Fatalf("%d upstream calls, want 1", src.calls.Load())
	}
}

// TestCacheFresh answers from memory only what Token would answer without
// going upstream: nothing before the first fetch, the cached token until
// its refresh point, then nothing, so the caller fetches (and renews).
func TestCacheFresh(t *testing.T) {
	c, src, clock := newTestCache(t, CacheOptions{})
	if tok, ok := c.Fresh(req("a", "r")); ok {
		t.Fatalf("empty cache answered %q", tok.AccessToken)
	}
	if _, err := c.Token(context.Background(), req("a", "r")); err != nil {
		t.Fatal(err)
	}
	if tok, ok := c.Fresh(req("a", "r")); !ok || tok.AccessToken != "tok-1" {
		t.Fatalf("Fresh after a fetch: %q, %v; want tok-1", tok.AccessToken, ok)
	}
	if _, ok := c.Fresh(req("a", "other")); ok {
		t.Fatal("Fresh answered for another resource")
	}
	clock.Set(t0.Add(51 * time.Minute)) // inside the renewal window
	if tok, ok := c.Fresh(req("a", "r")); ok {
		t.Fatalf("Fresh answered %q inside the renewal window", tok.AccessToken)
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("%d upstream calls, want 1: Fresh never goes upstream", n)
	}
}

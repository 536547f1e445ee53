package tokens

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults of CacheOptions.
const (
	// DefaultCacheEntries bounds the cache: identities × resources.
	DefaultCacheEntries = 4096
	// DefaultRefreshBefore is how long before expiry a token is renewed.
	// It is above the 5 minutes within which MSAL clients treat a token as
	// expired, so clients never get a token they discard at once.
	DefaultRefreshBefore = 10 * time.Minute
	// DefaultFetchTimeout bounds one upstream call.
	DefaultFetchTimeout = 30 * time.Second
)

// CacheOptions configure NewCache.
type CacheOptions struct {
	// MaxEntries bounds the number of tokens kept; the least recently used
	// goes first. 0 means DefaultCacheEntries.
	MaxEntries int
	// RefreshBefore: a token is renewed once less than this is left, or
	// less than half its lifetime when that is shorter. 0 means
	// DefaultRefreshBefore.
	RefreshBefore time.Duration
	// FetchTimeout bounds an upstream call. The call is shared by every
	// caller asking for the same token, so it does not end when the first
	// caller gives up. 0 means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Observer is told of hits, misses and upstream calls; nil ignores them.
	Observer CacheObserver
}

// Cache is a TokenSource decorator that keeps tokens per identity and
// resource, renews them before they expire, makes one upstream call for
// concurrent identical requests, and forgets identities on request.
//
// When renewal fails while the cached token is still valid, the cached token
// is served and the next request tries again.
type Cache struct {
	src   TokenSource
	opts  CacheOptions
	group singleflight.Group

	mu      sync.Mutex
	entries map[cacheKey]*list.Element
	lru     *list.List // front: most recently used
	// epoch counts Evict calls; a fetch that started before an Evict does
	// not store its result, so an evicted identity is not brought back.
	epoch uint64
	// oids holds the object ID read from each identity's latest token, by
	// identity key; at most MaxEntries of them, dropped by Evict.
	oids map[IdentityKey]string
}

var _ TokenSource = (*Cache)(nil)

type cacheKey struct {
	identity IdentityKey
	resource string
}

type cacheEntry struct {
	key       cacheKey
	tok       Token
	refreshAt time.Time
}

// NewCache wraps src.
func NewCache(src TokenSource, opts CacheOptions) (*Cache, error) {
	if src == nil {
		return nil, errors.New("token cache needs a source")
	}
	if opts.MaxEntries < 0 || opts.RefreshBefore < 0 || opts.FetchTimeout < 0 {
		return nil, errors.New("token cache options must not be negative")
	}
	if opts.MaxEntries == 0 {
		opts.MaxEntries = DefaultCacheEntries
	}
	if opts.RefreshBefore == 0 {
		opts.RefreshBefore = DefaultRefreshBefore
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	return &Cache{src: src, opts: opts, entries: map[cacheKey]*list.Element{}, lru: list.New(), oids: map[IdentityKey]string{}}, nil
}

// Fresh returns the cached token for req if it needs no renewal, without
// the context a fetch needs: the node agent answers warm requests with it
// before it sets up a request's timeout.
func (c *Cache) Fresh(req Request) (Token, bool) {
	fresh, _, ok := c.lookup(cacheKey{identity: req.Identity.Key(), resource: req.Resource}, c.opts.Now())
	if ok {
		c.opts.Observer.CacheHit()
	}
	return fresh, ok
}

// Token returns a cached token, or gets one from the source.
func (c *Cache) Token(ctx context.Context, req Request) (Token, error) {
	k := cacheKey{identity: req.Identity.Key(), resource: req.Resource}
	now := c.opts.Now()
	fresh, stale, ok := c.lookup(k, now)
	if ok {
		c.opts.Observer.CacheHit()
		return fresh, nil
	}
	c.opts.Observer.CacheMiss()
	ch := c.group.DoChan(k.identity.String()+"\x00"+k.resource, func() (any, error) {
		return c.fetch(ctx, k, req)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			if stale != nil {
				return *stale, nil
			}
			return Token{}, res.Err
		}
		return res.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, fmt.Errorf("wait for token of %s: %w", req.Identity.Name, ctx.Err())
	}
}

// lookup returns a token that needs no renewal (ok), or else a token that
// is still valid, to fall back on if renewal fails.
func (c *Cache) lookup(k cacheKey, now time.Time) (Token, *Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.entries[k]
	if !found {
		return Token{}, nil, false
	}
	e := el.Value.(*cacheEntry)
	if now.Before(e.refreshAt) {
		c.lru.MoveToFront(el)
		return e.tok, nil, true
	}
	if now.Before(e.tok.ExpiresOn) {
		t := e.tok
		return Token{}, &t, false
	}
	return Token{}, nil, false
}

// fetch makes the one upstream call for k, detached from the caller's
// cancellation but bounded by FetchTimeout, and stores the result.
func (c *Cache) fetch(ctx context.Context, k cacheKey, req Request) (Token, error) {
	// A caller that missed just before the previous flight stored its token
	// starts a new flight; it finds the token here instead of calling out.
	if tok, _, ok := c.lookup(k, c.opts.Now()); ok {
		return tok, nil
	}
	c.mu.Lock()
	epoch := c.epoch
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FetchTimeout)
	defer cancel()
	start := c.opts.Now()
	tok, err := c.src.Token(ctx, req)
	now := c.opts.Now()
	c.opts.Observer.UpstreamCall(now.Sub(start), err)
	if err != nil {
		return Token{}, fmt.Errorf("get token of %s for %s: %w", req.Identity.Name, req.Resource, err)
	}
	if tok.AccessToken == "" || !tok.ExpiresOn.After(now) {
		return Token{}, fmt.Errorf("get token of %s for %s: source returned an empty or expired token", req.Identity.Name, req.Resource)
	}
	c.store(k, tok, now, epoch)
	return tok, nil
}

func (c *Cache) store(k cacheKey, tok Token, now time.Time, epoch uint64) {
	margin := c.opts.RefreshBefore
	if half := tok.ExpiresOn.Sub(now) / 2; half < margin {
		margin = half
	}
	e := &cacheEntry{key: k, tok: tok, refreshAt: tok.ExpiresOn.Add(-margin)}
	oid, _ := ObjectIDOf(tok.AccessToken)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if oid != "" {
		c.rememberObjectID(k.identity, oid)
	}
	if el, ok := c.entries[k]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[k] = c.lru.PushFront(e)
	for c.lru.Len() > c.opts.MaxEntries {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).key)
	}
}

// Evict forgets every token of the identity whose Key is identityKey, and
// keeps fetches already under way from storing theirs. Call it when an
// identity or its last assignment on this node goes away. It returns how
// many tokens were dropped.
func (c *Cache) Evict(identityKey IdentityKey) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.oids, identityKey)
	n := 0
	for k, el := range c.entries {
		if k.identity == identityKey {
			c.lru.Remove(el)
			delete(c.entries, k)
			n++
		}
	}
	return n
}

// ObjectID returns the object ID of the identity whose Key is identityKey,
// as read from the oid claim of the last token stored for it, or "" when no
// token of it carried one (see ObjectIDOf).
func (c *Cache) ObjectID(identityKey IdentityKey) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.oids[identityKey]
}

// rememberObjectID records oid, dropping an arbitrary other identity's once
// MaxEntries are kept. Called with mu held.
func (c *Cache) rememberObjectID(identityKey IdentityKey, oid string) {
	if _, ok := c.oids[identityKey]; !ok && len(c.oids) >= c.opts.MaxEntries {
		for k := range c.oids {
			delete(c.oids, k)
			break
		}
	}
	c.oids[identityKey] = oid
}

// Len returns the number of cached tokens.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

package cloud

import (
	"context"
	"crypto/rsa"
	"sync"
	"time"
)

// issuerKeyTTL is how long an external issuer's keys are trusted before
// they are fetched again. Azure AD caches issuer metadata the same way; an
// assertion signed with a key not in the cache triggers a fetch at once, so
// key rotation is noticed immediately.
const issuerKeyTTL = 5 * time.Minute

// issuerRefetchAfter is the negative cache: a key id the issuer did not
// publish, or a fetch that failed, is tried again only this long after the
// last fetch. Otherwise every assertion naming an unknown key would make
// the cloud fetch the issuer's keys once more; a rotated key is still seen
// within this interval.
const issuerRefetchAfter = 10 * time.Second

// issuerKeys caches external issuers' signing keys.
type issuerKeys struct {
	mu      sync.Mutex
	entries map[string]*issuerEntry
}

type issuerEntry struct {
	mu      sync.Mutex // one fetch per issuer at a time
	keys    map[string]*rsa.PublicKey
	fetched time.Time // of keys
	tried   time.Time // the last fetch, successful or not
	err     error     // of the last fetch
}

// lookup returns the key kid of issuer iss, fetching the issuer's keys when
// they are missing, older than issuerKeyTTL, or lack kid (then at most once
// per issuerRefetchAfter, as after a failed fetch).
func (k *issuerKeys) lookup(ctx context.Context, iss, kid string, now func() time.Time, fetch func(context.Context, string) (map[string]*rsa.PublicKey, error)) (*rsa.PublicKey, bool, error) {
	k.mu.Lock()
	if k.entries == nil {
		k.entries = map[string]*issuerEntry{}
	}
	e, ok := k.entries[iss]
	if !ok {
		e = &issuerEntry{}
		k.entries[iss] = e
	}
	k.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	t := now()
	fresh := e.keys != nil && t.Sub(e.fetched) < issuerKeyTTL
	if key, ok := e.keys[kid]; ok && fresh {
		return key, true, nil
	}
	if !e.tried.IsZero() && t.Sub(e.tried) < issuerRefetchAfter && (fresh || e.err != nil) {
		return nil, false, e.err
	}
	keys, err := fetch(ctx, iss)
	e.tried, e.err = t, err
	if err != nil {
		return nil, false, err
	}
	e.keys, e.fetched = keys, t
	key, ok := keys[kid]
	return key, ok, nil
}

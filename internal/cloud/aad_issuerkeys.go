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

// issuerKeys caches external issuers' signing keys.
type issuerKeys struct {
	mu      sync.Mutex
	entries map[string]*issuerEntry
}

type issuerEntry struct {
	mu      sync.Mutex // one fetch per issuer at a time
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// lookup returns the key kid of issuer iss, fetching the issuer's keys when
// they are missing, older than issuerKeyTTL, or lack kid.
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
	fresh := e.keys != nil && now().Sub(e.fetched) < issuerKeyTTL
	if key, ok := e.keys[kid]; ok && fresh {
		return key, true, nil
	}
	keys, err := fetch(ctx, iss)
	if err != nil {
		return nil, false, err
	}
	e.keys, e.fetched = keys, now()
	key, ok := keys[kid]
	return key, ok, nil
}

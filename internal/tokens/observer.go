package tokens

import "time"

// CacheObserver is told about cache hits, misses and upstream calls, for
// metrics. Methods must be cheap and safe for concurrent use.
type CacheObserver interface {
	CacheHit()
	CacheMiss()
	// UpstreamCall reports one call to the wrapped source.
	UpstreamCall(d time.Duration, err error)
}

type nopObserver struct{}

func (nopObserver) CacheHit()                         {}
func (nopObserver) CacheMiss()                        {}
func (nopObserver) UpstreamCall(time.Duration, error) {}

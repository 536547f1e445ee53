package kubeclient

import (
	"context"
	"math/rand/v2"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// reconnectEvery is how often a list or watch the API server refuses is
// tried again; each wait is stretched by up to half at random, so the
// agents of a cluster do not all come back in the same instant.
const reconnectEvery = 2 * time.Second

// reconnecting decorates a ListerWatcher so that a list or watch refused
// at the TCP level (the API server is down or restarting) is tried again
// every reconnectEvery inside the call, until it succeeds or the informer
// stops, rather than going back to the reflector. The reflector's own
// back-off grows to 30 s plus up to 100% jitter while refusals last and
// only resets after two quiet minutes, so after an outage of a minute or
// more the agent would learn of new pods and assignments up to a minute
// after the API server was back, answering 503 to pods it could serve.
// Every other error goes back to the reflector unchanged: a 429 in
// particular keeps its back-off, which protects a busy API server.
type reconnecting struct {
	inner cache.ListerWatcherWithContext
	every time.Duration
	// wait sleeps d or until ctx ends; tests replace it.
	wait func(ctx context.Context, d time.Duration) bool
}

var (
	_ cache.ListerWatcher            = (*reconnecting)(nil)
	_ cache.ListerWatcherWithContext = (*reconnecting)(nil)
)

// Reconnect wraps lw so that refused connections are retried every
// couple of seconds (see reconnecting). The node agent's informers and
// mic's cache use it.
func Reconnect(lw cache.ListerWatcher) cache.ListerWatcher {
	return reconnect(lw)
}

func reconnect(lw cache.ListerWatcher) *reconnecting {
	return &reconnecting{inner: cache.ToListerWatcherWithContext(lw), every: reconnectEvery, wait: sleepCtx}
}

// List implements cache.Lister.
func (r *reconnecting) List(options metav1.ListOptions) (runtime.Object, error) {
	return r.ListWithContext(context.Background(), options)
}

// Watch implements cache.Watcher.
func (r *reconnecting) Watch(options metav1.ListOptions) (watch.Interface, error) {
	return r.WatchWithContext(context.Background(), options)
}

// ListWithContext implements cache.ListerWithContext.
func (r *reconnecting) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	return retryRefused(ctx, r, func() (runtime.Object, error) { return r.inner.ListWithContext(ctx, options) })
}

// WatchWithContext implements cache.WatcherWithContext.
func (r *reconnecting) WatchWithContext(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
	return retryRefused(ctx, r, func() (watch.Interface, error) { return r.inner.WatchWithContext(ctx, options) })
}

// retryRefused calls call until it returns anything but a refused
// connection, or ctx ends (then the last error is returned).
func retryRefused[T any](ctx context.Context, r *reconnecting, call func() (T, error)) (T, error) {
	for {
		v, err := call()
		if err == nil || !utilnet.IsConnectionRefused(err) {
			return v, err
		}
		if !r.wait(ctx, r.every+rand.N(r.every/2+1)) {
			return v, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

package kubeclient

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// refused is what client-go returns while nothing listens on the API
// server's port.
var refused = fmt.Errorf("Get \"https://127.0.0.1:6443/api/v1/pods\": %w",
	&netOpError{err: syscall.ECONNREFUSED})

type netOpError struct{ err error }

func (e *netOpError) Error() string { return "dial tcp 127.0.0.1:6443: connect: " + e.err.Error() }
func (e *netOpError) Unwrap() error { return e.err }

func TestReconnectingRetriesOnlyRefusedConnections(t *testing.T) {
	tooMany := apierrors.NewTooManyRequests("slow down", 1)
	gone := apierrors.NewResourceExpired("too old resource version")
	cases := map[string]struct {
		// errs are the inner watch's answers, in order; after them it
		// succeeds.
		errs []error
		// stopAfter ends the context after this many waits; 0 never.
		stopAfter int
		wantErr   error
		wantCalls int
		wantWaits int
	}{
		"a watch that works is not retried": {
			wantCalls: 1,
		},
		"refusals are retried inside the call until the server is back": {
			errs: []error{refused, refused, refused}, wantCalls: 4, wantWaits: 3,
		},
		"a 429 goes back to the reflector, which backs off": {
			errs: []error{tooMany}, wantErr: tooMany, wantCalls: 1,
		},
		"an expired resource version goes back to the reflector, which lists again": {
			errs: []error{gone}, wantErr: gone, wantCalls: 1,
		},
		"a refusal after a 429 is not reached: the 429 returns first": {
			errs: []error{tooMany, refused}, wantErr: tooMany, wantCalls: 1,
		},
		"a stopped informer gets the refusal back instead of waiting on": {
			errs: []error{refused, refused, refused}, stopAfter: 2, wantErr: refused, wantCalls: 2, wantWaits: 2,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inner := &scriptedLW{errs: tc.errs}
			r := reconnect(inner)
			var waits []time.Duration
			r.wait = func(_ context.Context, d time.Duration) bool {
				waits = append(waits, d)
				return tc.stopAfter == 0 || len(waits) < tc.stopAfter
			}
			w, err := r.Watch(metav1.ListOptions{})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && w == nil {
				t.Fatal("no watch returned")
			}
			if inner.watches != tc.wantCalls {
				t.Errorf("inner watch called %d times, want %d", inner.watches, tc.wantCalls)
			}
			if len(waits) != tc.wantWaits {
				t.Errorf("waited %d times, want %d", len(waits), tc.wantWaits)
			}
			for _, d := range waits {
				if d < reconnectEvery || d > reconnectEvery*3/2 {
					t.Errorf("waited %s, want %s to %s", d, reconnectEvery, reconnectEvery*3/2)
				}
			}
		})
	}
}

func TestReconnectingRetriesRefusedLists(t *testing.T) {
	inner := &scriptedLW{errs: []error{refused}}
	r := reconnect(inner)
	r.wait = func(context.Context, time.Duration) bool { return true }
	if _, err := r.List(metav1.ListOptions{}); err != nil {
		t.Fatalf("list: %v", err)
	}
	if inner.lists != 2 {
		t.Errorf("inner list called %d times, want 2", inner.lists)
	}
}

// The waits are real sleeps that end with the informer's context.
func TestReconnectingStopsWaitingWhenTheContextEnds(t *testing.T) {
	inner := &scriptedLW{errs: []error{refused, refused, refused, refused}}
	r := reconnect(inner)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := r.WatchWithContext(ctx, metav1.ListOptions{}); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v, want the refusal", err)
	}
	if took := time.Since(start); took > reconnectEvery {
		t.Errorf("returned after %s, want soon after the context ended", took)
	}
}

// scriptedLW answers with errs in order, then succeeds.
type scriptedLW struct {
	errs           []error
	lists, watches int
}

var _ cache.ListerWatcher = (*scriptedLW)(nil)

func (s *scriptedLW) next() error {
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func (s *scriptedLW) List(metav1.ListOptions) (runtime.Object, error) {
	s.lists++
	if err := s.next(); err != nil {
		return nil, err
	}
	return &metav1.List{}, nil
}

func (s *scriptedLW) Watch(metav1.ListOptions) (watch.Interface, error) {
	s.watches++
	if err := s.next(); err != nil {
		return nil, err
	}
	return watch.NewFake(), nil
}

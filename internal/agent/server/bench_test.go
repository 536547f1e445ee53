package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

// benchHandlers returns the full agent handler with a warm token cache, and
// a bare handler that writes a body of the same size.
func benchHandlers(b *testing.B, ip string) (full, bare http.Handler) {
	b.Helper()
	e := newEnv(b, nil)
	e.tokens.now = time.Now
	cache, err := tokens.NewCache(e.tokens, tokens.CacheOptions{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	full, err = New(Options{Tokens: cache, Pods: e.cluster, Identities: e.cluster, Logger: discardLogger(), Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	e.cluster.addPod(ip, Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", tokenURL, nil)
	r.RemoteAddr, r.Header["Metadata"] = ip+":1", []string{"true"}
	full.ServeHTTP(w, r) // warm the cache
	if w.Code != 200 {
		b.Fatalf("warm-up: %d %s", w.Code, w.Body)
	}
	body := w.Body.Bytes()
	bare = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})
	return full, bare
}

// BenchmarkHandler measures one warm-token request in process.
func BenchmarkHandler(b *testing.B) {
	full, bare := benchHandlers(b, "10.0.0.5")
	for name, h := range map[string]http.Handler{"podid": full, "bare": bare} {
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest("GET", tokenURL, nil)
			r.RemoteAddr, r.Header["Metadata"] = "10.0.0.5:1", []string{"true"}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkLoopback measures warm-token requests over loopback HTTP with
// keep-alive connections, in parallel.
func BenchmarkLoopback(b *testing.B) {
	full, bare := benchHandlers(b, "127.0.0.1")
	for name, h := range map[string]http.Handler{"podid": full, "bare": bare} {
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			var mu sync.Mutex
			var lat []time.Duration
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest("GET", srv.URL+tokenURL, nil)
				req.Header.Set("Metadata", "true")
				local := make([]time.Duration, 0, 1024)
				defer func() { mu.Lock(); lat = append(lat, local...); mu.Unlock() }()
				for pb.Next() {
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					local = append(local, time.Since(t0))
				}
			})
			elapsed := time.Since(start)
			slices.Sort(lat)
			if n := len(lat); n > 0 {
				b.ReportMetric(float64(lat[n/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[n*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s")
			}
		})
	}
}

package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podid/podid/internal/tokens"
)

// Metrics are the agent's Prometheus metrics, prefixed podid_agent_.
type Metrics struct {
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	cacheHits      prometheus.Counter
	cacheMisses    prometheus.Counter
	upstreamCalls  prometheus.Counter
	upstreamErrors prometheus.Counter
	upstreamTime   prometheus.Histogram
	// The warm path's series, resolved once: looking labels up hashes
	// them on every request.
	tokenOK      prometheus.Counter
	tokenLatency prometheus.Observer
}

var _ tokens.CacheObserver = (*Metrics)(nil)

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podid_agent_requests_total",
			Help: "Requests answered, by route and HTTP status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "podid_agent_request_duration_seconds",
			Help:    "Time to answer a request, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "podid_agent_token_cache_hits_total",
			Help: "Token requests answered from the cache."}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{Name: "podid_agent_token_cache_misses_total",
			Help: "Token requests that needed an upstream call (shared calls count once per caller)."}),
		upstreamCalls: prometheus.NewCounter(prometheus.CounterOpts{Name: "podid_agent_upstream_calls_total",
			Help: "Calls to token sources (IMDS, AAD)."}),
		upstreamErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "podid_agent_upstream_errors_total",
			Help: "Calls to token sources that failed."}),
		upstreamTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "podid_agent_upstream_duration_seconds",
			Help: "Time of calls to token sources.", Buckets: prometheus.DefBuckets}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.cacheHits, m.cacheMisses, m.upstreamCalls, m.upstreamErrors, m.upstreamTime} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.tokenOK, m.tokenLatency = m.requests.WithLabelValues("token", "200"), m.latency.WithLabelValues("token")
	return m, nil
}

func (m *Metrics) observeRequest(route string, code int, d time.Duration) {
	if route == "token" && code == 200 {
		m.tokenOK.Inc()
		m.tokenLatency.Observe(d.Seconds())
		return
	}
	if route == "" {
		route = "other"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// CacheHit implements tokens.CacheObserver.
func (m *Metrics) CacheHit() { m.cacheHits.Inc() }

// CacheMiss implements tokens.CacheObserver.
func (m *Metrics) CacheMiss() { m.cacheMisses.Inc() }

// UpstreamCall implements tokens.CacheObserver.
func (m *Metrics) UpstreamCall(d time.Duration, err error) {
	m.upstreamCalls.Inc()
	m.upstreamTime.Observe(d.Seconds())
	if err != nil {
		m.upstreamErrors.Inc()
	}
}

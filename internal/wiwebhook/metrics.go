package wiwebhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of the admission metrics.
const (
	webhookMutate = "mutate"
	webhookWarn   = "warn"

	// resultMutated: admitted with the injection; resultWarned: admitted
	// with warnings; resultAllowed: admitted as is (warn webhook);
	// resultDenied: refused for bad input; resultError: refused (mutate)
	// or not examined (warn) because of an internal failure.
	resultMutated = "mutated"
	resultWarned  = "warned"
	resultAllowed = "allowed"
	resultDenied  = "denied"
	resultError   = "error"
)

// Metrics are the webhook's Prometheus metrics, prefixed podid_wi_webhook_.
type Metrics struct {
	admissions *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	certExpiry prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		admissions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podid_wi_webhook_admissions_total",
			Help: "Pod admissions answered, by webhook (mutate, warn) and result (mutated, warned, allowed, denied, error)."},
			[]string{"webhook", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "podid_wi_webhook_admission_duration_seconds",
			Help:    "Time to answer an admission, by webhook and result, without the TLS and HTTP overhead.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
			[]string{"webhook", "result"}),
		certExpiry: prometheus.NewGauge(prometheus.GaugeOpts{Name: "podid_wi_webhook_certificate_expiry_timestamp_seconds",
			Help: "When the serving certificate in use expires, in Unix seconds; 0 before one is loaded."}),
	}
	for _, c := range []prometheus.Collector{m.admissions, m.latency, m.certExpiry} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observe(webhook, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.admissions.WithLabelValues(webhook, result).Inc()
	m.latency.WithLabelValues(webhook, result).Observe(d.Seconds())
}

func (m *Metrics) certificateLoaded(notAfter time.Time) {
	if m == nil {
		return
	}
	m.certExpiry.Set(float64(notAfter.Unix()))
}

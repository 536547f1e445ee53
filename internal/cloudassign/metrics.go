package cloudassign

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	cloudCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "podid_cloud_requests_total",
		Help: "ARM calls made by the cloud workers, by operation (get, update) and HTTP status (0 for transport errors).",
	}, []string{"operation", "code"})
	cloudLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "podid_cloud_request_duration_seconds",
		Help:    "Duration of ARM calls made by the cloud workers.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
	}, []string{"operation"})
)

func init() {
	metrics.Registry.MustRegister(cloudCalls, cloudLatency)
}

func observeCall(Target) func(op string, err error, d time.Duration) {
	return func(op string, err error, d time.Duration) {
		code := "200"
		var ce *CallError
		switch {
		case errors.As(err, &ce):
			code = strconv.Itoa(ce.Status)
		case err != nil:
			code = "0"
		}
		cloudCalls.WithLabelValues(op, code).Inc()
		cloudLatency.WithLabelValues(op).Observe(d.Seconds())
	}
}

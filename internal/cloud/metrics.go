package cloud

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/podid/podid/internal/httpstatus"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	tokens   *prometheus.CounterVec
	patches  *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podid_cloud_requests_total",
			Help: "Requests served by the embedded cloud, by service and status code."}, []string{"service", "code"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podid_cloud_tokens_issued_total",
			Help: "Access tokens issued, by issuing service (aad or imds)."}, []string{"service"}),
		patches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podid_cloud_machine_identity_writes_total",
			Help: "Accepted VM/VMSS identity writes (PATCH or PUT), by machine name."}, []string{"machine"}),
	}
	reg.MustRegister(m.requests, m.tokens, m.patches)
	return m
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// instrument counts requests and applies faults for service.
func (c *Cloud) instrument(service string, next http.Handler) http.Handler {
	h := c.faults.Wrap(service, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httpstatus.Wrap(w)
		h.ServeHTTP(rec, r)
		code := rec.Status
		if code == 0 {
			code = http.StatusOK
		}
		c.metrics.requests.WithLabelValues(service, strconv.Itoa(code)).Inc()
		c.log.Debug("request", "service", service, "method", r.Method, "path", r.URL.Path, "code", code)
	})
}

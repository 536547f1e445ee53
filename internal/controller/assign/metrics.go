package assign

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	podidv1 "github.com/podid/podid/api/v1"
)

var assignmentReady = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "podid_assignment_ready_seconds",
	Help:    "Time from a pod's creation to its AzureAssignedIdentity becoming Assigned.",
	Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
})

func init() {
	metrics.Registry.MustRegister(assignmentReady)
}

func observeReady(p Pod, _ *podidv1.AzureAssignedIdentity, now time.Time) {
	if !p.Created.IsZero() {
		assignmentReady.Observe(now.Sub(p.Created).Seconds())
	}
}

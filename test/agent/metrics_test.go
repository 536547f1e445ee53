package agent

import (
	"testing"

	"github.com/podid/podid/internal/testenv"
)

// imdsRequests reads how many requests every IMDS listener of the cloud has
// served, from the cloud's own /metrics.
func imdsRequests(t testing.TB) float64 {
	t.Helper()
	resp, err := s.cloudHTTP.Get(s.cloud.URL() + "/metrics")
	if err != nil {
		t.Fatalf("read cloud metrics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	samples, err := testenv.Samples(resp.Body, "podid_cloud_requests_total")
	if err != nil {
		t.Fatalf("read cloud metrics: %v", err)
	}
	var sum float64
	for _, x := range samples {
		if x.Labels["service"] == "imds" {
			sum += x.Value
		}
	}
	return sum
}

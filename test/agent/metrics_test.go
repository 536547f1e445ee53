package agent

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
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
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "podid_cloud_requests_total{") || !strings.Contains(line, `service="imds"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("parse metric line %q: %v", line, err)
		}
		sum += v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read cloud metrics: %v", err)
	}
	return sum
}

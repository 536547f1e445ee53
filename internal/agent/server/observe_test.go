package server

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

func TestLogLineRedactsClientIDAndNeverShowsTheToken(t *testing.T) {
	var buf bytes.Buffer
	e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	if w := e.do("GET", tokenURL, "10.0.0.5", md); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	line := buf.String()
	for _, want := range []string{"msg=\"request served\"", "method=GET", "path=/metadata/identity/oauth2/token", "remote=10.0.0.5:40000",
		"status=200", "duration=", "pod=default/app", "identity=default/a", "clientid=\"7eb6##### REDACTED #####a6a9\"", "resource=https://vault.azure.net"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s:\n%s", want, line)
		}
	}
	for _, secret := range []string{fakeJWT(clientA), clientA} {
		if strings.Contains(line, secret) {
			t.Errorf("log line shows %s:\n%s", secret, line)
		}
	}
}

func TestMetricsCountRequestsAndCache(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.Metrics = m })
	cache, err := tokens.NewCache(e.tokens, tokens.CacheOptions{Observer: m, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Tokens: cache, Pods: e.cluster, Identities: e.cluster, Metrics: m, Logger: discardLogger(), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod}, assigned("a", clientA, resA, v1.AssignedIDAssigned))
	for range 3 {
		e.do("GET", tokenURL, "10.0.0.5", md)
	}
	e.do("GET", tokenURL, "10.0.0.5", nil)
	checks := map[string]struct {
		got  float64
		want float64
	}{
		"successful token requests":  {testutil.ToFloat64(m.requests.WithLabelValues("token", "200")), 3},
		"refused token requests":     {testutil.ToFloat64(m.requests.WithLabelValues("token", "400")), 1},
		"cache hits":                 {testutil.ToFloat64(m.cacheHits), 2},
		"cache misses":               {testutil.ToFloat64(m.cacheMisses), 1},
		"upstream calls":             {testutil.ToFloat64(m.upstreamCalls), 1},
		"upstream errors":            {testutil.ToFloat64(m.upstreamErrors), 0},
		"latency observations taken": {float64(testutil.CollectAndCount(m.latency)), 1},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", name, c.got, c.want)
		}
	}
}

func TestProbes(t *testing.T) {
	var notReady error = errString("caches not synced")
	h := NewProbeHandler(func() error { return notReady })
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
	notReady = nil
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 200 {
		t.Errorf("/readyz when ready: %d", w.Code)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

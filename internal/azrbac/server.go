package azrbac

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	authzv1 "k8s.io/api/authorization/v1"

	"github.com/podid/podid/internal/cloud/authz"
)

// Server timeouts.
const (
	readHeaderTimeout = 5 * time.Second
	// checkTimeout bounds one review; kube-apiserver's own webhook timeout
	// is 30 s by default.
	checkTimeout  = 10 * time.Second
	maxReviewSize = 1 << 20
	shutdownGrace = 5 * time.Second
)

// Server is the authorization webhook's HTTPS server:
//
//	POST /authorize   SubjectAccessReview (authorization.k8s.io/v1) in and out
//	GET  /healthz     the process serves
//	GET  /readyz      the directory answers
//	GET  /metrics     Prometheus metrics
type Server struct {
	policy  Policy
	dir     Directory
	log     *slog.Logger
	srv     *http.Server
	ln      net.Listener
	reg     *prometheus.Registry
	reviews *prometheus.CounterVec
	latency prometheus.Histogram
}

// NewServer listens on addr (host:port; port 0 picks one) with cert and
// answers reviews for policy.ClusterID from dir.
func NewServer(addr string, cert tls.Certificate, policy Policy, dir Directory, log *slog.Logger) (*Server, error) {
	if policy.ClusterID == "" {
		return nil, errors.New("create azure rbac webhook: no cluster resource ID; pass the managed cluster's ID (/subscriptions/.../managedClusters/<name>)")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{policy: policy, dir: dir, log: log, ln: ln, reg: prometheus.NewRegistry(),
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podid_azrbac_reviews_total",
			Help: "SubjectAccessReviews answered, by verdict (Allow, Deny, NoOpinion)."}, []string{"verdict"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "podid_azrbac_review_duration_seconds",
			Help: "Time to answer one SubjectAccessReview, in seconds.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8)}),
	}
	s.reg.MustRegister(s.reviews, s.latency)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /authorize", s.serveReview)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	return s, nil
}

// URL is the review endpoint, https://<addr>/authorize.
func (s *Server) URL() string { return "https://" + s.ln.Addr().String() + "/authorize" }

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.ServeTLS(s.ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve azure rbac webhook: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down azure rbac webhook: %w", err)
	}
	return nil
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	defer cancel()
	if _, _, err := s.dir.LookupPrincipal(ctx, "readyz-probe@invalid"); err != nil {
		http.Error(w, "directory unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func (s *Server) serveReview(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var review authzv1.SubjectAccessReview
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReviewSize)).Decode(&review); err != nil {
		http.Error(w, "decode SubjectAccessReview: "+err.Error()+"; send an authorization.k8s.io/v1 SubjectAccessReview as JSON", http.StatusBadRequest)
		return
	}
	if review.APIVersion != authzv1.SchemeGroupVersion.String() || review.Kind != "SubjectAccessReview" {
		http.Error(w, fmt.Sprintf("got %s %s; this webhook speaks authorization.k8s.io/v1 SubjectAccessReview (set --authorization-webhook-version=v1)", review.APIVersion, review.Kind), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	defer cancel()
	d := s.decide(ctx, review.Spec)
	s.reviews.WithLabelValues(string(d.Verdict)).Inc()
	s.latency.Observe(time.Since(start).Seconds())
	s.log.Debug("review answered", "user", review.Spec.User, "verdict", d.Verdict, "error", d.Error)
	out := authzv1.SubjectAccessReview{TypeMeta: review.TypeMeta, Status: d.Status()}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		s.log.Info("write review answer failed", "error", err)
	}
}

// decide gathers what Plan and Answer need: the caller's object ID and,
// when Plan asks, the directory's decision.
func (s *Server) decide(ctx context.Context, spec authzv1.SubjectAccessReviewSpec) Decision {
	oid := ObjectID(spec)
	if oid == "" && spec.User != "" {
		var err error
		if oid, _, err = s.dir.LookupPrincipal(ctx, spec.User); err != nil {
			return Answer(authz.Decision{}, fmt.Errorf("look up user %q: %w", spec.User, err))
		}
	}
	q, d, ask := Plan(s.policy, spec, oid)
	if !ask {
		return d
	}
	return Answer(s.dir.Check(ctx, q))
}

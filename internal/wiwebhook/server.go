package wiwebhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/podid/podid/internal/logging"
)

// Server limits.
const (
	readHeaderTimeout = 10 * time.Second
	// readTimeout and writeTimeout exceed the API server's longest
	// webhook timeout (30 s).
	readTimeout   = 35 * time.Second
	writeTimeout  = 35 * time.Second
	idleTimeout   = 90 * time.Second
	shutdownGrace = 10 * time.Second
	accountResync = 10 * time.Hour
)

// Options configure a Server.
type Options struct {
	// Config is what the mutation injects.
	Config Config
	// Certs is where the serving certificate lives and who trusts it.
	Certs CertOptions
	// TLSMinVersion is the lowest TLS version served; 0 means TLS 1.2.
	TLSMinVersion uint16
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Registry gets the metrics; nil means a new one with the Go and
	// process collectors.
	Registry *prometheus.Registry
}

// Server is the webhook process: the HTTPS admission endpoints (MutatePath,
// WarnPath), the probes (/healthz, /readyz) and /metrics, each on a
// listener of its own.
type Server struct {
	opts     Options
	log      *slog.Logger
	registry *prometheus.Registry
	rotator  *rotator
	accounts *accountCache
	serving  atomic.Bool
	webhooks http.Handler
}

// New builds a Server; nothing runs before Serve.
func New(kube kubernetes.Interface, opts Options) (*Server, error) {
	if len(opts.Certs.Hosts) == 0 {
		return nil, errors.New("no host names for the serving certificate: name the webhook's Service DNS name or address")
	}
	if opts.Certs.Secret.Name == "" || opts.Certs.Secret.Namespace == "" {
		return nil, errors.New("no Secret for the serving certificate: give its namespace and name")
	}
	s := &Server{opts: opts, log: opts.Logger, registry: opts.Registry}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
		s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	metrics, err := NewMetrics(s.registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	s.rotator = newRotator(kube, opts.Certs, s.log, metrics)
	s.accounts = newAccountCache(kube, accountResync)
	mux := http.NewServeMux()
	lr := logging.Logr(s.log)
	for path, h := range map[string]admission.Handler{
		MutatePath: &mutator{accounts: s.accounts, config: opts.Config, metrics: metrics},
		WarnPath:   &advisor{accounts: s.accounts, metrics: metrics},
	} {
		hook, err := admission.StandaloneWebhook(&admission.Webhook{Handler: h, LogConstructor: requestLogger},
			admission.StandaloneOptions{Logger: lr.WithValues("webhook", path)})
		if err != nil {
			return nil, fmt.Errorf("build webhook %s: %w", path, err)
		}
		mux.Handle(path, hook)
	}
	s.webhooks = mux
	return s, nil
}

// requestLogger keys a request's log lines by the pod and the user who
// sent it.
func requestLogger(base logr.Logger, req *admission.Request) logr.Logger {
	if req == nil {
		return base
	}
	name := req.Name
	if name == "" {
		name = "(generated)"
	}
	return base.WithValues("pod", req.Namespace+"/"+name, "user", req.UserInfo.Username)
}

// Ready reports nil once the server serves with a valid certificate and
// knows the cluster's ServiceAccounts.
func (s *Server) Ready() error {
	if !s.serving.Load() {
		return errors.New("not serving yet")
	}
	if err := s.rotator.ready(); err != nil {
		return err
	}
	if !s.accounts.synced() {
		return errors.New("ServiceAccount cache not synced")
	}
	return nil
}

// Serve runs until ctx ends or a listener fails, then shuts down. webhook
// is required; a nil probe or metrics listener leaves that endpoint out.
func (s *Server) Serve(ctx context.Context, webhook, probe, metrics net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.accounts.start(ctx)
	s.rotator.watchConfigs(ctx)
	go s.rotator.run(ctx)

	minTLS := s.opts.TLSMinVersion
	if minTLS == 0 {
		minTLS = tls.VersionTLS12
	}
	type listener struct {
		l   net.Listener
		srv *http.Server
		tls bool
	}
	all := []listener{{l: webhook, tls: true, srv: &http.Server{Handler: s.webhooks,
		TLSConfig: &tls.Config{MinVersion: minTLS, GetCertificate: s.rotator.getCertificate}}}}
	if probe != nil {
		all = append(all, listener{l: probe, srv: &http.Server{Handler: s.probeHandler()}})
	}
	if metrics != nil {
		all = append(all, listener{l: metrics, srv: &http.Server{Handler: promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})}})
	}
	errc := make(chan error, len(all))
	for _, l := range all {
		l.srv.ReadHeaderTimeout, l.srv.ReadTimeout, l.srv.WriteTimeout, l.srv.IdleTimeout = readHeaderTimeout, readTimeout, writeTimeout, idleTimeout
		l.srv.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
		go func() {
			s.log.Info("listening", "address", l.l.Addr().String(), "tls", l.tls)
			var err error
			if l.tls {
				err = l.srv.ServeTLS(l.l, "", "")
			} else {
				err = l.srv.Serve(l.l)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", l.l.Addr(), err)
			}
		}()
	}
	s.serving.Store(true)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.serving.Store(false)
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer scancel()
	for _, l := range all {
		_ = l.srv.Shutdown(sctx)
	}
	return err
}

// probeHandler serves /healthz (the process answers) and /readyz (Ready).
func (s *Server) probeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

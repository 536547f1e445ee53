package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/agent/peer"
	"github.com/podid/podid/internal/agent/podif"
	"github.com/podid/podid/internal/agent/podindex"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
)

// shutdownGrace bounds how long in-flight requests may finish on exit.
const shutdownGrace = 5 * time.Second

// Run serves until ctx ends. The logger comes from log; nil uses
// slog.Default().
func Run(ctx context.Context, cfg *rest.Config, opts *Options, log *slog.Logger) error {
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("invalid options: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	// /healthz and /readyz answer from the start: an agent that waits for
	// another agent to leave the node is alive, and says why it is not
	// ready. readiness is what /readyz answers; each phase replaces it.
	var readiness atomic.Pointer[func() error]
	setReadiness := func(check func() error) { readiness.Store(&check) }
	setReadiness(func() error { return errors.New("starting") })
	if opts.ProbeAddress != "" {
		stop, err := startProbe(opts.ProbeAddress, func() error { return (*readiness.Load())() }, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("build Kubernetes client: %w", err)
	}
	var iptablesBinary string
	if opts.ManageIPTables {
		// Before any rule: an agent that must not run on this node says
		// so at once. The backend comes first, as the claim reads the nat
		// table through it.
		binary, err := chooseIPTables(ctx, opts.IPTables, log)
		if err != nil {
			return fmt.Errorf("not starting: %w", err)
		}
		iptablesBinary = binary
		// The uninstall watch starts before the claim: an agent that
		// waits beside another agent has its guard installed, and an
		// uninstall while it waits must remove that too.
		var uninstall *uninstallWatch
		if opts.RemoveRulesOnUninstall {
			if uninstall, err = watchUninstall(ctx, kube, opts.Pod, log); err != nil {
				return err
			}
		}
		guarded := false
		release, err := claimNode(ctx, opts, log, observeNodeNAT(binary), whileRefused{
			guard: func() error { guarded = true; return installGuard(opts, binary) },
			notReady: func(err error) {
				err = fmt.Errorf("another agent owns this node's metadata redirect: %w", err)
				setReadiness(func() error { return err })
			},
		})
		if err != nil && guarded && opts.RemoveRulesOnUninstall {
			removeRulesIfUninstalled(ctx, uninstall, binary, log)
		}
		if err != nil && ctx.Err() != nil {
			return nil // stopped while waiting for the other agent
		}
		if err != nil {
			return fmt.Errorf("not starting: %w", err)
		}
		defer release() // after the rules stop being repaired (deferred later)
		if opts.RemoveRulesOnUninstall {
			// Runs after the repairs stop (deferred below), before the
			// node lock goes.
			defer removeRulesIfUninstalled(ctx, uninstall, iptablesBinary, log)
		}
	}
	crd, err := podindex.NewCRDClient(cfg)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	// The Go runtime's and the process's own figures (goroutines, heap,
	// resident memory, open descriptors), as every Prometheus target has.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := server.NewMetrics(reg)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	src, evict, err := tokenSource(kube, opts, metrics)
	if err != nil {
		return err
	}
	idx, err := podindex.New(kube, crd, podindex.Options{NodeName: opts.NodeName, Resync: opts.Resync, OnIdentityGone: evict,
		ClusterWideBindings: opts.ClusterWideBindings, KubeletDir: opts.KubeletDir, Logger: log})
	if err != nil {
		return err
	}
	nodeIMDS, _ := url.Parse(opts.NodeIMDSURL) // checked by Validate
	handler, err := server.New(server.Options{
		Tokens: src, Pods: idx, Identities: idx, NodeIMDS: nodeIMDS,
		InstanceMetadata: policy(!opts.BlockInstanceMetadata), OtherPaths: policy(opts.ProxyOtherPaths),
		AssignmentWait: opts.AssignmentWait, RetryAfter: opts.RetryAfter, NewPodGrace: opts.NewPodGrace,
		TokenTimeout: opts.TokenTimeout, Logger: log, Metrics: metrics,
		PodLimits:   server.PodLimits{Rate: opts.PodRate, Burst: opts.PodBurst, InFlight: opts.PodInFlight},
		HostCallers: newHostCallers(opts.HostTokenAllow, idx.PodByUID),
	})
	if err != nil {
		return err
	}

	idx.Start(ctx)
	if err := idx.WaitForSync(ctx); err != nil {
		return err
	}
	var rulesOK atomic.Bool
	rulesOK.Store(!opts.ManageIPTables)
	if opts.ManageIPTables {
		stop, err := manageRules(ctx, idx.Pods(), opts, iptablesBinary, log, &rulesOK)
		if err != nil {
			return err
		}
		defer stop() // stops repairing; the rules stay (fail closed)
	}
	setReadiness(func() error {
		if !idx.HasSynced() {
			return errors.New("caches not synced")
		}
		if !rulesOK.Load() {
			return errors.New("iptables rules not in place")
		}
		return nil
	})
	if opts.NotReadyTaint != "" {
		go removeNodeTaint(ctx, kube, opts.NodeName, opts.NotReadyTaint, func() error { return (*readiness.Load())() }, log)
	}
	servers := []*http.Server{tokenServer(opts, handler)}
	if opts.MetricsAddress != "" {
		servers = append(servers, &http.Server{Addr: opts.MetricsAddress, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})})
	}
	return serve(ctx, log, servers)
}

func policy(proxy bool) server.PathPolicy {
	if proxy {
		return server.Proxy
	}
	return server.Block
}

// tokenSource builds the sources, the router and the cache; evict forgets
// an identity's tokens (a no-op without cache).
func tokenSource(kube kubernetes.Interface, opts *Options, obs tokens.CacheObserver) (tokens.TokenSource, func(tokens.IdentityKey), error) {
	imds, err := tokens.NewIMDS(tokens.IMDSOptions{Endpoint: opts.NodeIMDSURL})
	if err != nil {
		return nil, nil, err
	}
	aad := tokens.AADOptions{AuthorityHost: opts.AuthorityHost, TenantID: opts.TenantID}
	if opts.AuthorityCAFile != "" {
		pem, err := os.ReadFile(opts.AuthorityCAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read --authority-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("--authority-ca-file %s holds no PEM certificate", opts.AuthorityCAFile)
		}
		aad.Client = tokens.NewHTTPSClient(pool)
	}
	secret, err := tokens.NewClientSecret(aad, clientSecretFrom(kube))
	if err != nil {
		return nil, nil, err
	}
	cert, err := tokens.NewCertificate(aad, certificateFrom(kube))
	if err != nil {
		return nil, nil, err
	}
	fed, err := tokens.NewFederated(aad, serviceAccountToken(kube, opts.ServiceAccountNamespace, opts.ServiceAccountName))
	if err != nil {
		return nil, nil, err
	}
	podToken, err := tokens.NewPodToken(aad)
	if err != nil {
		return nil, nil, err
	}
	router, err := tokens.NewRouter(tokens.RouterOptions{Default: tokens.Mode(opts.TokenMode),
		Node: imds, Secret: secret, Certificate: cert, Federated: fed, PodToken: podToken})
	if err != nil {
		return nil, nil, err
	}
	explained := explainRefusals(router, newSecretReader(kube).warn, time.Now)
	if opts.CacheSize == 0 {
		return explained, func(tokens.IdentityKey) {}, nil
	}
	cache, err := tokens.NewCache(explained, tokens.CacheOptions{MaxEntries: opts.CacheSize,
		RefreshBefore: opts.RefreshBefore, FetchTimeout: opts.TokenTimeout, Observer: obs})
	if err != nil {
		return nil, nil, err
	}
	return cache, func(key tokens.IdentityKey) { cache.Evict(key) }, nil
}

// manageRules installs the rules and keeps them in sync until ctx ends;
// the returned func stops the syncing. With per-pod interfaces (the
// default) it watches the node's pods, and a pod's change (a pod that
// starts) replans at once; until a pod's rule is in place its metadata
// traffic meets the guard. Every interval the rules are repaired whatever
// changed. It never removes the rules: while no agent serves, the redirect
// sends pods' metadata traffic to a port nobody listens on (a TCP reset,
// which SDKs retry) and the guard rejects what is not redirected, so no pod
// reaches the node's IMDS during a restart, a rollout or after a crash.
// Cleanup, the uninstall step, is the only way they go.
func manageRules(ctx context.Context, nodePodWatch cache.SharedIndexInformer, opts *Options, binary string, log *slog.Logger, ok *atomic.Bool) (func(), error) {
	base, err := ruleInput(opts)
	if err != nil {
		return nil, err
	}
	if _, err := netrules.MakePlan(base); err != nil {
		return nil, err // a plan the options cannot make fails the start
	}
	src := &ruleSource{base: base, log: log}
	var changed <-chan struct{}
	if opts.PodInterfaces {
		pods, err := followNodePods(nodePodWatch)
		if err != nil {
			return nil, err
		}
		src.pods, changed = pods.list, pods.changed
		src.discover = func() (podif.Found, error) { return podif.Discover("/proc") }
	}
	applier, err := netrules.NewApplier(binary)
	if err != nil {
		return nil, err
	}
	loop := &ruleLoop{src: src, apply: applier.Sync, changed: changed, interval: opts.IPTablesSyncInterval, log: log, ok: ok.Store}
	soon := loop.sync(true)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop.run(ctx, soon)
	}()
	return func() {
		cancel()
		<-done
		log.Info("iptables rules left in place: pods' metadata traffic stays refused until an agent serves again", "chains", netrules.Chains)
	}, nil
}

// rulePlan is the node's rules without per-pod interfaces: the pod CIDRs
// redirected. Its guard (Plan.Guard) is the same whatever the pods.
func rulePlan(opts *Options) (netrules.Plan, error) {
	in, err := ruleInput(opts)
	if err != nil {
		return netrules.Plan{}, err
	}
	return netrules.MakePlan(in)
}

func ruleInput(opts *Options) (netrules.Input, error) {
	_, portS, err := net.SplitHostPort(opts.ListenAddress)
	if err != nil {
		return netrules.Input{}, err
	}
	port, err := strconv.ParseUint(portS, 10, 16)
	if err != nil {
		return netrules.Input{}, fmt.Errorf("--listen-address port %q: %w", portS, err)
	}
	in := netrules.Input{
		Agent:    netip.AddrPortFrom(netip.MustParseAddr(opts.NodeIP), uint16(port)),
		Metadata: netip.MustParseAddrPort(opts.MetadataAddress),
	}
	for _, c := range opts.PodCIDRs {
		in.PodCIDRs = append(in.PodCIDRs, netip.MustParsePrefix(c))
	}
	return in, nil
}

// Limits of the token server. Pods are not trusted to be well-behaved
// clients: a slow or oversized request must not hold a connection or
// memory for long.
const (
	// maxHeaderBytes: IMDS requests carry a handful of short headers.
	maxHeaderBytes = 16 << 10
	// readTimeout: token requests are GETs without a body.
	readTimeout = 10 * time.Second
	// idleTimeout: SDKs keep connections alive between token calls.
	idleTimeout = 90 * time.Second
	// writeSlack is what an answer may take beyond the longest wait and
	// upstream call the agent allows itself.
	writeSlack = 5 * time.Second
)

// tokenServer is the IMDS-compatible server with its limits. The write
// timeout covers the longest answer the handler can owe: waiting for an
// assignment, then one upstream token call.
func tokenServer(opts *Options, handler http.Handler) *http.Server {
	return &http.Server{
		Addr: opts.ListenAddress, Handler: handler,
		MaxHeaderBytes: maxHeaderBytes,
		ReadTimeout:    readTimeout,
		WriteTimeout:   opts.AssignmentWait + opts.TokenTimeout + writeSlack,
		IdleTimeout:    idleTimeout,
	}
}

// serve runs the servers until ctx ends or one fails, then shuts all down.
func serve(ctx context.Context, log *slog.Logger, servers []*http.Server) error {
	errc := make(chan error, len(servers))
	for _, s := range servers {
		s.ReadHeaderTimeout = 10 * time.Second
		go func() {
			log.Info("listening", "address", s.Addr)
			if err := s.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", s.Addr, err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	return err
}

// startProbe serves /healthz and /readyz on address until stop is called.
// It binds at once, so a taken port fails the start.
func startProbe(address string, ready func() error, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("serve probes on %s: %w", address, err)
	}
	srv := &http.Server{Handler: server.NewProbeHandler(ready), ReadHeaderTimeout: 10 * time.Second}
	log.Info("listening", "address", address, "serves", "probes")
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// installGuard installs the guard alone (netrules.Plan.Guard), for an
// agent waiting beside another agent's redirect.
func installGuard(opts *Options, binary string) error {
	plan, err := rulePlan(opts)
	if err != nil {
		return err
	}
	applier, err := netrules.NewApplier(binary)
	if err != nil {
		return err
	}
	_, err = applier.Sync(plan.Guard())
	return err
}

// newHostCallers admits /host/token callers by allow list; none disables
// the endpoint.
func newHostCallers(allow []string, lookup podLookup) server.HostCallers {
	if len(allow) == 0 {
		return nil
	}
	return &hostCallers{allow: allow, lookup: lookup, of: peer.Of}
}

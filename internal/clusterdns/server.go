package clusterdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// DefaultTTL is how long resolvers may cache an answer. It is short because
// the front door's address moves when podid up restarts on another bridge.
const DefaultTTL = 30 * time.Second

// Options configure Start.
type Options struct {
	// Addr is the host:port to serve on, over UDP and TCP alike, e.g.
	// "10.254.0.1:53". Port 0 picks one free port for both.
	Addr string
	// Names maps names to the IPv4 address they resolve to. A name is exact
	// ("login.microsoftonline.com") or a wildcard over one label
	// ("*.vault.azure.net" answers "kv1.vault.azure.net" but neither
	// "vault.azure.net" nor "a.kv1.vault.azure.net"). Case and a trailing dot
	// do not matter.
	Names map[string]netip.Addr
	// Lookup, when set, is asked about names Names does not answer; name is
	// lower case and fully qualified ("web.default.svc.cluster.local.").
	// Returning false makes the name NXDOMAIN. It must be safe for
	// concurrent use and fast: it runs on every query.
	Lookup func(name string) (netip.Addr, bool)
	// TTL is the answers' time to live; 0 means DefaultTTL.
	TTL time.Duration
	// Logger receives the server's logs; unanswered queries are logged at
	// debug level only, since every search-list expansion is one. Default
	// discards.
	Logger *slog.Logger
}

// Server is a running cluster DNS server. Close stops it.
type Server struct {
	addr string
	udp  *dns.Server
	tcp  *dns.Server
	done chan struct{}
}

// Start validates opts, listens on opts.Addr over UDP and TCP and serves
// until Close. ctx bounds only the start.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < 0 {
		return nil, fmt.Errorf("ttl %v is negative", opts.TTL)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	t, err := newTable(opts.Names, opts.Lookup)
	if err != nil {
		return nil, fmt.Errorf("build name table: %w", err)
	}
	pc, ln, err := listen(ctx, opts.Addr)
	if err != nil {
		return nil, err
	}
	h := &handler{table: t, ttl: uint32(opts.TTL / time.Second), log: opts.Logger}
	s := &Server{addr: ln.Addr().String(), done: make(chan struct{}),
		udp: &dns.Server{PacketConn: pc, Handler: h},
		tcp: &dns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}}
	var started, stopped = make(chan struct{}, 2), make(chan error, 2)
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() { stopped <- srv.ActivateAndServe() }()
	}
	for range 2 {
		select {
		case <-started:
		case err := <-stopped:
			// One server failed before serving. Closing both sockets
			// ends the other one too, whether or not it started.
			_ = pc.Close()
			_ = ln.Close()
			return nil, fmt.Errorf("serve DNS on %s: %w", s.addr, err)
		}
	}
	go func() {
		for range 2 {
			if err := <-stopped; err != nil {
				opts.Logger.Error("DNS server stopped", "addr", s.addr, "error", err)
			}
		}
		close(s.done)
	}()
	opts.Logger.Info("cluster DNS serving", "addr", s.addr, "names", len(opts.Names))
	return s, nil
}

// listen opens UDP and TCP on the same host:port. With port 0 the kernel
// picks the UDP port, which may be taken for TCP; that is retried a few
// times with new ports.
func listen(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("parse address %q: %w", addr, err)
	}
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen on udp %s: %w", addr, err)
		}
		tcpAddr := net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		ln, err := lc.Listen(ctx, "tcp", tcpAddr)
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close()
		if port != "0" || attempt == 4 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("listen on tcp %s: %w", tcpAddr, err)
		}
	}
}

// Addr is the host:port the server answers on, over UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Close stops both listeners and waits for the servers to return.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := errors.Join(s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx))
	select {
	case <-s.done:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("wait for DNS server on %s: %w", s.addr, ctx.Err()))
	}
	return err
}

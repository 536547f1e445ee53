package node

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/podid/podid/internal/tunnel"
)

// proxyDialTimeout bounds the proxy's connection to where a CONNECT goes.
const proxyDialTimeout = 10 * time.Second

// MatchesName reports whether host (no port, any case, a trailing dot
// allowed) is one of names: exact names or "*." wildcards of exactly one
// label, as a certificate's names match.
func MatchesName(host string, names []string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, n := range names {
		n = strings.ToLower(n)
		if zone, ok := strings.CutPrefix(n, "*."); ok {
			label, found := strings.CutSuffix(host, "."+zone)
			if found && label != "" && !strings.Contains(label, ".") {
				return true
			}
			continue
		}
		if host == n {
			return true
		}
	}
	return false
}

// proxyTarget is where the front-door proxy connects a CONNECT for
// hostport: the front door for a name it serves on port 443, the address
// asked for otherwise. An empty result refuses the request.
func proxyTarget(hostport, frontDoor string, names []string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" || port == "" {
		return ""
	}
	if port == "443" && MatchesName(host, names) {
		return frontDoor
	}
	return hostport
}

// frontDoorProxy is the HTTP CONNECT proxy a node's containerd uses as
// HTTPS_PROXY: a tunnel to <registry>.azurecr.io:443 ends at the cloud's
// front door, so containerd's TLS handshake (server name) and requests
// (Host) name the registry, as on Azure, without the machine resolving
// the name. Tunnels to other names go where the name resolves, as they
// would without a proxy. It listens on loopback only.
type frontDoorProxy struct {
	frontDoor string
	names     []string
	ln        net.Listener
	srv       *http.Server

	tunnels tunnel.Set
}

// startFrontDoorProxy listens on a loopback port and serves until close.
func startFrontDoorProxy(frontDoor string, names []string) (*frontDoorProxy, error) {
	if _, _, err := net.SplitHostPort(frontDoor); err != nil {
		return nil, fmt.Errorf("front door %q is not host:port", frontDoor)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the registry proxy: %w", err)
	}
	p := &frontDoorProxy{frontDoor: frontDoor, names: names, ln: ln}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *frontDoorProxy) Addr() string { return p.ln.Addr().String() }

func (p *frontDoorProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels HTTPS (CONNECT)", http.StatusMethodNotAllowed)
		return
	}
	target := proxyTarget(r.Host, p.frontDoor, p.names)
	if target == "" {
		http.Error(w, "CONNECT needs host:port, got "+r.Host, http.StatusBadRequest)
		return
	}
	p.tunnels.Connect(w, r, target, proxyDialTimeout, fmt.Sprintf("connect to %s for %s", target, r.Host))
}

// close stops listening and ends every tunnel.
func (p *frontDoorProxy) close() error {
	err := p.srv.Close()
	p.tunnels.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

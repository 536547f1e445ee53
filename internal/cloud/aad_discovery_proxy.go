package cloud

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/podid/podid/internal/tunnel"
)

// DiscoveryProxy is an HTTP CONNECT proxy for az CLI. MSAL for Python, on
// which az signs in, validates any authority it does not know by asking
// https://login.microsoftonline.com/common/discovery/instance, and az has
// no switch to skip that; the machine cannot reach or resolve that host.
// With this proxy as HTTPS_PROXY (and the cloud's own address in
// NO_PROXY), that one request reaches the cloud's listener, which shows a
// certificate for the name (certificateFor) and answers for itself
// (serveInstanceDiscovery). It tunnels nothing else, so no request meant
// for the internet leaves through it.
type DiscoveryProxy struct {
	target string // the cloud's listener, host:port
	ln     net.Listener
	srv    *http.Server

	tunnels tunnel.Set
}

// discoveryProxyDialTimeout bounds the tunnel's connection to the cloud.
const discoveryProxyDialTimeout = 10 * time.Second

// StartDiscoveryProxy serves the proxy on addr (host:port; port 0 picks a
// free one) until its Close or the cloud's, whichever comes first.
func (c *Cloud) StartDiscoveryProxy(addr string) (*DiscoveryProxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the az CLI proxy: %w", err)
	}
	p := &DiscoveryProxy{target: strings.TrimPrefix(c.baseURL, "https://"), ln: ln}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	c.lnMu.Lock()
	c.discoveryProxies = append(c.discoveryProxies, p)
	c.lnMu.Unlock()
	return p, nil
}

// URL is the proxy's address as HTTPS_PROXY takes it.
func (p *DiscoveryProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *DiscoveryProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels HTTPS (CONNECT) to "+AzureADHost, http.StatusMethodNotAllowed)
		return
	}
	if host, port, err := net.SplitHostPort(r.Host); err != nil || port != "443" || !strings.EqualFold(strings.TrimSuffix(host, "."), AzureADHost) {
		http.Error(w, fmt.Sprintf("this proxy tunnels only %s:443 (Azure AD's instance discovery) to the embedded cloud, not %s; put the cloud's own address in NO_PROXY", AzureADHost, r.Host), http.StatusForbidden)
		return
	}
	p.tunnels.Connect(w, r, p.target, discoveryProxyDialTimeout, "connect to the embedded cloud at "+p.target)
}

// Close stops the proxy and ends open tunnels; closing twice is harmless.
func (p *DiscoveryProxy) Close() error {
	err := p.srv.Close()
	if !p.tunnels.Close() {
		return nil
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

package cloud

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeAzureNames serves Azure's public host names (AzureNames) over TLS on
// ln, in the background until Close, which also closes ln. The caller picks
// the address, typically a real node's bridge IP on port 443, and may call it
// once per address, before Close.
//
// The certificate, signed by the cloud's CA, names only Azure's hosts, and a
// handshake for any other server name is refused. Requests are routed by
// their Host: login.microsoftonline.com to Azure AD, management.azure.com to
// Resource Manager and <vault>.vault.azure.net to that vault's handler (the
// same one its own listener serves). Any other host gets a 404 in Azure's
// JSON error shape naming it.
func (c *Cloud) ServeAzureNames(ln net.Listener) error {
	cert, err := c.pki.issueLeaf("podid embedded cloud (Azure names)", AzureNames(), nil)
	if err != nil {
		return fmt.Errorf("issue certificate for Azure names: %w", err)
	}
	tlsConf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if !servesServerName(hello.ServerName) {
				return nil, fmt.Errorf("refuse TLS server name %q: not one of %v", hello.ServerName, AzureNames())
			}
			return &cert, nil
		},
	}
	srv := &http.Server{Handler: c.azureNamesHandler(), TLSConfig: tlsConf, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(c.log.Handler(), slog.LevelDebug)}
	c.lnMu.Lock()
	c.azureNames = append(c.azureNames, srv)
	c.lnMu.Unlock()
	// lenientListener for the same reason as the main listener: ARM clients
	// reach Resource Manager here too.
	c.serve(srv, lenientListener{tls.NewListener(ln, tlsConf)})
	c.log.Info("serving Azure names", "addr", ln.Addr().String(), "names", AzureNames())
	return nil
}

// azureNamesHandler routes by Host. Only each host's own service is reachable
// (no admin API or metrics), as on Azure, where login.microsoftonline.com
// serves no Resource Manager paths.
func (c *Cloud) azureNamesHandler() http.Handler {
	aad := c.instrument("aad", http.HandlerFunc(c.serveAAD))
	arm := c.instrument("arm", http.HandlerFunc(c.serveARM))
	registry := c.instrument("registry", c.registryByContext())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(withAzureNames(r.Context()))
		route := routeAzureHost(r.Host)
		switch route.service {
		case serviceAAD:
			aad.ServeHTTP(w, r)
		case serviceARM:
			arm.ServeHTTP(w, r)
		case serviceVault:
			if h := c.vaultHTTPHandler(route.name); h != nil {
				h.ServeHTTP(w, r)
				return
			}
			kvError(w, http.StatusNotFound, "VaultNotFound", fmt.Sprintf(
				"No vault named '%s' exists in this cloud, so host '%s' has nothing behind it. Create the vault in the world file or through Resource Manager.", route.name, r.Host), "")
		case serviceRegistry:
			registry.ServeHTTP(w, r.WithContext(withRegistryName(r.Context(), route.name)))
		default:
			c.log.Debug("no service behind host", "host", r.Host, "path", r.URL.Path)
			armError(w, http.StatusNotFound, "HostNotFound", fmt.Sprintf(
				"No service of this cloud answers at host '%s'. It serves %s, %s, <vault>.%s and <registry>.%s.", r.Host, AzureADHost, ARMHost, VaultDomain, RegistryDomain))
		}
	})
}

// vaultHTTPHandler is the handler of the named vault's own listener, or nil
// when no such vault exists. Dispatching to it directly keeps one code path
// (faults, metrics, challenge) for both ways in.
func (c *Cloud) vaultHTTPHandler(name string) http.Handler {
	c.lnMu.Lock()
	defer c.lnMu.Unlock()
	if l, ok := c.vault[lower(name)]; ok {
		return l.srv.Handler
	}
	return nil
}

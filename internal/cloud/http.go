package cloud

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func (c *Cloud) rootHandler() http.Handler {
	aad := c.instrument("aad", http.HandlerFunc(c.serveAAD))
	arm := c.instrument("arm", http.HandlerFunc(c.serveARM))
	admin := http.NewServeMux()
	admin.Handle("/admin/faults", c.faults.AdminHandler())
	admin.HandleFunc("GET /admin/instances", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, c.Instances()) })
	admin.HandleFunc("GET /admin/vaults", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, c.VaultURLs()) })
	c.adminAccessHandlers(admin)
	c.adminRegistryHandlers(admin)
	c.adminFederatedHandlers(admin)
	adminH := c.requireAdmin(admin)
	metricsH := c.metrics.handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/healthz" || p == "/readyz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ok"))
		case p == "/metrics":
			metricsH.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/admin/"):
			adminH.ServeHTTP(w, r)
		case isARMPath(p):
			arm.ServeHTTP(w, r)
		default:
			aad.ServeHTTP(w, r)
		}
	})
}

func isARMPath(p string) bool {
	lp := strings.ToLower(p)
	return strings.HasPrefix(lp, "/subscriptions") || strings.HasPrefix(lp, "/providers/") || lp == "/tenants" || lp == "/tenants/"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// initTrust builds the pool used to fetch external OIDC issuers: system
// roots, the cloud's own CA and Options.TrustedCAs.
func (c *Cloud) initTrust() error {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AddCert(c.pki.caCert)
	for i, pemBytes := range c.opts.TrustedCAs {
		if !pool.AppendCertsFromPEM(pemBytes) {
			return fmt.Errorf("trusted CA bundle %d holds no PEM certificate", i)
		}
	}
	c.trust = pool
	c.fetchCli = c.newFetchClient()
	return nil
}

func (c *Cloud) newFetchClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: c.trust, MinVersion: tls.VersionTLS12}}}
}

// AddTrustedCA trusts pemBytes for fetching external OIDC issuers from now on.
func (c *Cloud) AddTrustedCA(pemBytes []byte) error {
	c.trustMu.Lock()
	defer c.trustMu.Unlock()
	pool := c.trust.Clone()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return fmt.Errorf("add trusted CA: no PEM certificate found")
	}
	c.trust = pool
	old := c.fetchCli
	c.fetchCli = c.newFetchClient()
	old.CloseIdleConnections()
	return nil
}

func (c *Cloud) fetchClient() *http.Client {
	c.trustMu.Lock()
	defer c.trustMu.Unlock()
	return c.fetchCli
}

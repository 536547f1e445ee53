package cloud

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podid/podid/internal/cloud/faults"
)

// Options configure Start.
type Options struct {
	// Listen is the HTTPS address (AAD, ARM, admin); default 127.0.0.1:0.
	Listen string
	// IMDSHost is the loopback IP IMDS and vault listeners bind; default 127.0.0.1.
	IMDSHost string
	// StateDir keeps the CA, the signing key and state.json. When state.json
	// exists it wins over Seed. Empty means in memory only.
	StateDir string
	// Seed is the initial state (typically from world.World.State).
	Seed State
	// TrustedCAs are extra PEM bundles trusted when fetching external OIDC
	// issuers (e.g. a kube-apiserver's CA).
	TrustedCAs [][]byte
	// SigningKey overrides the token signing key (tests share one to save time).
	SigningKey *rsa.PrivateKey
	// Logger receives structured logs; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// AdminToken is the bearer token the admin API requires; empty makes a
	// random one. With a StateDir it is written to StateDir/admin-token.
	AdminToken string
}

// Cloud is a running embedded cloud. Close stops every listener.
type Cloud struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	pki     *pki
	store   *store
	faults  *faults.Injector
	metrics *metrics
	// adminToken is what requireAdmin checks.
	adminToken string

	httpsLn  net.Listener
	https    *http.Server
	baseURL  string
	trustMu  sync.Mutex
	trust    *x509.CertPool
	fetchCli *http.Client
	// issuerKeys caches external OIDC issuers' signing keys.
	issuerKeys issuerKeys

	lnMu  sync.Mutex
	imds  map[string]*imdsListener // key: lower machine ID + "#" + index
	vault map[string]*vaultListener
	// azureNames are the servers ServeAzureNames started.
	azureNames []*http.Server
	// discoveryProxies are the proxies StartDiscoveryProxy started.
	discoveryProxies []*DiscoveryProxy
	wg               sync.WaitGroup

	// namesCert is the Azure-names certificate the main listener shows
	// for those server names (azurenames_sni.go).
	namesCert namesCert
	// access holds how each managed cluster's API server is reached, as
	// podid up reports it (model_managedcluster_access.go).
	access clusterAccess
}

// Start brings up the cloud and returns once every listener is accepting.
func Start(ctx context.Context, opts Options) (*Cloud, error) {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.IMDSHost == "" {
		opts.IMDSHost = "127.0.0.1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Cloud{opts: opts, log: opts.Logger, now: opts.Now, faults: faults.New(),
		imds: map[string]*imdsListener{}, vault: map[string]*vaultListener{}}
	if opts.StateDir != "" {
		if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("create state dir: %w", err)
		}
	}
	host, _, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("parse listen address %q: %w", opts.Listen, err)
	}
	if c.adminToken, err = newAdminToken(opts.AdminToken); err != nil {
		return nil, err
	}
	if opts.StateDir != "" {
		if err := writeAdminToken(opts.StateDir, c.adminToken); err != nil {
			return nil, err
		}
	}
	if c.pki, err = loadPKI(opts.StateDir, opts.SigningKey, []string{host, opts.IMDSHost}); err != nil {
		return nil, err
	}
	st, err := c.initialState()
	if err != nil {
		return nil, err
	}
	c.store = newStore(st)
	c.store.dirty = c.persistLocked
	c.metrics = newMetrics(prometheus.NewRegistry())
	if err := c.initTrust(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	c.httpsLn, err = lc.Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	c.baseURL = "https://" + c.httpsLn.Addr().String()
	c.https = &http.Server{Handler: c.rootHandler(), TLSConfig: c.tlsConfig(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(c.log.Handler(), slog.LevelDebug)}
	c.serve(c.https, lenientListener{tls.NewListener(c.httpsLn, c.https.TLSConfig)})
	c.store.mu.Lock()
	err = c.ensureListenersLocked()
	c.store.mu.Unlock()
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	c.log.Info("embedded cloud started", "url", c.baseURL, "stateDir", opts.StateDir)
	return c, nil
}

func (c *Cloud) tlsConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.pki.serverCert}, GetCertificate: c.certificateFor, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
}

func (c *Cloud) serve(srv *http.Server, ln net.Listener) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("listener stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
}

func (c *Cloud) initialState() (State, error) {
	if c.opts.StateDir != "" {
		st, ok, err := loadState(filepath.Join(c.opts.StateDir, stateFile))
		if err != nil {
			return State{}, err
		}
		if ok {
			return st, nil
		}
	}
	st, err := cloneState(c.opts.Seed)
	if err != nil {
		return State{}, err
	}
	stampSeededSecrets(&st, c.now())
	return st, nil
}

// stampSeededSecrets dates secrets a world file seeded without dates, so
// clients see when the vault got them rather than the zero time.
func stampSeededSecrets(st *State, now time.Time) {
	for _, v := range st.Vaults {
		for name, versions := range v.Secrets {
			for i := range versions {
				if versions[i].Created.IsZero() {
					versions[i].Created = now
				}
				if versions[i].Updated.IsZero() {
					versions[i].Updated = now
				}
			}
			v.Secrets[name] = versions
		}
	}
}

// Close stops all listeners and waits for them.
func (c *Cloud) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	// The proxies first: their tunnels are connections to the main
	// listener, which Shutdown would wait for.
	c.lnMu.Lock()
	for _, p := range c.discoveryProxies {
		errs = append(errs, p.Close())
	}
	c.lnMu.Unlock()
	if c.https != nil {
		errs = append(errs, c.https.Shutdown(ctx))
	}
	c.lnMu.Lock()
	for _, l := range c.imds {
		errs = append(errs, l.srv.Shutdown(ctx))
	}
	for _, l := range c.vault {
		errs = append(errs, l.srv.Shutdown(ctx))
	}
	for _, srv := range c.azureNames {
		errs = append(errs, srv.Shutdown(ctx))
	}
	c.lnMu.Unlock()
	c.wg.Wait()
	if c.fetchCli != nil {
		c.fetchCli.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// URL is the HTTPS base URL, e.g. https://127.0.0.1:PORT. It is the AAD
// authority host and the ARM endpoint.
func (c *Cloud) URL() string { return c.baseURL }

// AuthorityURL is the AAD authority host with a trailing slash, as
// azidentity's AuthorityHost wants it.
func (c *Cloud) AuthorityURL() string { return c.baseURL + "/" }

// ARMURL is the Resource Manager endpoint.
func (c *Cloud) ARMURL() string { return c.baseURL + "/" }

// CAPEM is the PEM bundle of the CA that signed every HTTPS certificate.
func (c *Cloud) CAPEM() []byte { return c.pki.caPEM }

// CAPath is the CA bundle file, empty without a state dir.
func (c *Cloud) CAPath() string {
	if c.opts.StateDir == "" {
		return ""
	}
	return filepath.Join(c.opts.StateDir, caCertFile)
}

// CertPool trusts the cloud's CA.
func (c *Cloud) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.pki.caCert)
	return p
}

// HTTPClient is a client trusting the cloud's CA.
func (c *Cloud) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: c.CertPool(), MinVersion: tls.VersionTLS12}}}
}

// Faults is the fault injector applied to every listener.
func (c *Cloud) Faults() *faults.Injector { return c.faults }

// Instance is one VM or VMSS instance and its IMDS endpoint.
type Instance struct {
	// MachineID is the VM or VMSS resource ID.
	MachineID string `json:"machineId"`
	// Name is the VM name, or "<vmss>_<index>" for a scale-set instance.
	Name string `json:"name"`
	// Index is the scale-set instance index (0 for VMs).
	Index int `json:"index"`
	// IMDSURL is e.g. http://127.0.0.1:PORT; the token path is appended by clients.
	IMDSURL string `json:"imdsUrl"`
	// Addr is the listener's host:port.
	Addr string `json:"addr"`
}

// Instances lists every VM and VMSS instance with its IMDS URL, sorted by name.
func (c *Cloud) Instances() []Instance {
	c.lnMu.Lock()
	defer c.lnMu.Unlock()
	out := make([]Instance, 0, len(c.imds))
	for _, l := range c.imds {
		out = append(out, l.inst)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// VaultURLs maps vault name to its https URL.
func (c *Cloud) VaultURLs() map[string]string {
	c.lnMu.Lock()
	defer c.lnMu.Unlock()
	out := make(map[string]string, len(c.vault))
	for _, l := range c.vault {
		out[l.name] = l.url
	}
	return out
}

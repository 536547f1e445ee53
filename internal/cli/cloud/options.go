package cloud

import (
	"errors"
	"fmt"
	"net"

	"github.com/spf13/pflag"
)

// Options configure `cloud serve`.
type Options struct {
	// World is the YAML world file seeding a fresh state.
	World string
	// StateDir keeps the CA, signing key and state; a restart keeps state.
	StateDir string
	// Listen is the HTTPS address for AAD, ARM, health, metrics and admin.
	Listen string
	// TrustedCAs are PEM files trusted when fetching external OIDC issuers.
	TrustedCAs []string
	// Verbose logs every request.
	Verbose bool
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{StateDir: ".podid/cloud", Listen: "127.0.0.1:8443"}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.World, "world", o.World, "world file (YAML) seeding tenants, identities, machines, vaults and roles; ignored when the state dir already holds state")
	fs.StringVar(&o.StateDir, "state-dir", o.StateDir, "directory for the CA (ca.pem), token signing key and state.json; created if missing")
	fs.StringVar(&o.Listen, "listen", o.Listen, "host:port of the HTTPS endpoint (AAD authority and ARM); port 0 picks a free port")
	fs.StringSliceVar(&o.TrustedCAs, "trusted-ca", o.TrustedCAs, "PEM file of a CA to trust when fetching external OIDC issuers (e.g. a kube-apiserver's); repeatable")
	fs.BoolVarP(&o.Verbose, "verbose", "v", o.Verbose, "log every request")
}

// Validate reports bad option values.
func (o *Options) Validate() error {
	if o.StateDir == "" {
		return errors.New("--state-dir is required")
	}
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", o.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %q: the embedded cloud only listens on loopback addresses", o.Listen)
	}
	return nil
}

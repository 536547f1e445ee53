package cloud

import (
	"errors"
	"fmt"
	"net"

	"github.com/spf13/pflag"

	"github.com/podid/podid/internal/logging"
)

// Options configure `cloud serve`.
type Options struct {
	// World is the YAML world file seeding a fresh state.
	World string
	// DataDir keeps the CA, signing key and state; a restart keeps state.
	// It is not a podid up state folder (--state-dir elsewhere).
	DataDir string
	// Listen is the HTTPS address for AAD, ARM, health, metrics and admin.
	Listen string
	// TrustedCAs are PEM files trusted when fetching external OIDC issuers.
	TrustedCAs []string
	// Log is --log-format and -v; -v=4 logs every request.
	Log logging.Options
}

// LogFormat is the default --log-format of `cloud serve`: the text it
// always wrote.
const LogFormat = logging.FormatText

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{DataDir: ".podid/cloud", Listen: "127.0.0.1:8443", Log: *logging.NewOptions(LogFormat)}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.World, "world", o.World, "world file (YAML) seeding tenants, identities, machines, vaults and roles; ignored when --data-dir already holds state")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "directory for the CA (ca.pem), token signing key and state.json; created if missing (a podid up run keeps its cloud's in <state-dir>/run/cloud)")
	fs.StringVar(&o.Listen, "listen", o.Listen, "host:port of the HTTPS endpoint (AAD authority and ARM); port 0 picks a free port")
	fs.StringSliceVar(&o.TrustedCAs, "trusted-ca", o.TrustedCAs, "PEM file of a CA to trust when fetching external OIDC issuers (e.g. a kube-apiserver's); repeatable")
	o.Log.AddFlags(fs)
}

// Validate reports bad option values.
func (o *Options) Validate() error {
	if o.DataDir == "" {
		return errors.New("--data-dir is required")
	}
	if err := o.Log.Validate(); err != nil {
		return err
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

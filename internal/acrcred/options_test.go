package acrcred

import (
	"testing"

	"github.com/spf13/pflag"
)

// The kubelet's credential provider config can set env instead of args;
// flags still win.
func TestOptionsFromEnvThenFlags(t *testing.T) {
	env := map[string]string{EnvIMDSEndpoint: "http://127.0.0.1:9", EnvAuthorityHost: "https://login.example/", EnvCABundle: "/ca.pem", EnvFrontDoor: "127.0.0.1:8443"}
	o := NewOptions(func(k string) string { return env[k] })
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse([]string{"--imds-endpoint", "http://10.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if o.IMDSEndpoint != "http://10.0.0.1" || o.AuthorityHost != "https://login.example/" || o.CABundle != "/ca.pem" || o.FrontDoor != "127.0.0.1:8443" ||
		o.AzureConfig != DefaultAzureConfigPath || !o.AnonymousEntry {
		t.Fatalf("options = %+v", o)
	}
	if d := NewOptions(func(string) string { return "" }); d.IMDSEndpoint != "http://169.254.169.254" || d.AuthorityHost != "" {
		t.Fatalf("defaults = %+v", d)
	}
}

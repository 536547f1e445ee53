package acrcred_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/cloud"
)

// The cache duration the provider answers: AKS's by default, capped by
// --cache-duration or PODID_ACR_CACHE_DURATION, and 0 (the kubelet then
// caches nothing and runs the provider for every pull) when either says 0.
func TestProviderCacheDurationOption(t *testing.T) {
	n := startNode(t, cloud.RegistrySpec{})
	n.grant(t, n.identity(t, "kubelet").PrincipalID, "AcrPull")
	for name, tc := range map[string]struct {
		env   string   // PODID_ACR_CACHE_DURATION
		flags []string // the provider's command line
		want  time.Duration
	}{
		"without the option the answer is AKS's 60m":         {want: acrcred.DefaultCacheDuration},
		"the env var set to 0 turns the kubelet's cache off": {env: "0", want: 0},
		"the env var caps the duration":                      {env: "10m", want: 10 * time.Minute},
		"the flag wins over the env var":                     {env: "0", flags: []string{"--cache-duration", "2m"}, want: 2 * time.Minute},
		"a cap above AKS's 60m leaves 60m":                   {flags: []string{"--cache-duration", "24h"}, want: acrcred.DefaultCacheDuration},
	} {
		t.Run(name, func(t *testing.T) {
			o := acrcred.NewOptions(func(k string) string {
				if k == acrcred.EnvCacheDuration {
					return tc.env
				}
				return ""
			})
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			c, err := acrcred.New(n.msiConfig(t, "kubelet"), *o, acrcred.Deps{HTTPS: &http.Client{Transport: n.tr}, IMDS: n.imds,
				Lookup: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Credentials(context.Background(), regLogin+"/app/web:v1")
			if err != nil {
				t.Fatal(err)
			}
			if resp.CacheDuration == nil || resp.CacheDuration.Duration != tc.want {
				t.Fatalf("cacheDuration = %v, want %s", resp.CacheDuration, tc.want)
			}
			if a := resp.Auth[regLogin]; a.Password == "" {
				t.Fatalf("no refresh token for %s", regLogin)
			}
		})
	}
}

func TestProviderCacheDurationOptionRefusesBadValues(t *testing.T) {
	for name, tc := range map[string]struct {
		env, want string
	}{
		"an env var that is no duration": {env: "ten minutes", want: acrcred.EnvCacheDuration + ` "ten minutes" is not a duration`},
		"a negative duration":            {env: "-1m", want: "--cache-duration -1m0s is negative"},
	} {
		t.Run(name, func(t *testing.T) {
			o := acrcred.NewOptions(func(k string) string {
				if k == acrcred.EnvCacheDuration {
					return tc.env
				}
				return ""
			})
			if err := o.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

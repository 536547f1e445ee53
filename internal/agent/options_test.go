package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func validOptions() *Options {
	o := NewOptions()
	o.NodeName, o.NodeIP, o.PodCIDRs = "n1", "10.240.0.4", []string{"10.244.0.0/24"}
	return o
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		mod    func(*Options)
		wantIn string // "" when valid
	}{
		"the defaults with node facts are valid":      {mod: func(*Options) {}},
		"a node name is required":                     {mod: func(o *Options) { o.NodeName = "" }, wantIn: "--node-name"},
		"a Retry-After above 25s is refused":          {mod: func(o *Options) { o.RetryAfter = 30 * time.Second }, wantIn: "--retry-after"},
		"a Retry-After in fractions of seconds fails": {mod: func(o *Options) { o.RetryAfter = 1500 * time.Millisecond }, wantIn: "--retry-after"},
		"an unknown token mode is refused":            {mod: func(o *Options) { o.TokenMode = "magic" }, wantIn: "--token-mode"},
		"a plain http authority is refused":           {mod: func(o *Options) { o.AuthorityHost = "http://login" }, wantIn: "--authority-host"},
		"iptables need the node IP":                   {mod: func(o *Options) { o.NodeIP = "" }, wantIn: "--node-ip"},
		"iptables without management need no node IP": {mod: func(o *Options) { o.NodeIP, o.ManageIPTables = "", false }},
		"a bad pod CIDR is refused":                   {mod: func(o *Options) { o.PodCIDRs = []string{"10.0.0.0/99"} }, wantIn: "--pod-cidr"},
		"a negative lock wait is refused":             {mod: func(o *Options) { o.LockWait = -time.Second }, wantIn: "--lock-wait"},
		"--iptables=auto is valid":                    {mod: func(o *Options) { o.IPTables = "auto" }},
		"--iptables may be an absolute path":          {mod: func(o *Options) { o.IPTables = "/usr/sbin/iptables-legacy" }},
		"--iptables refuses a backend name":           {mod: func(o *Options) { o.IPTables = "nft" }, wantIn: "--iptables"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := validOptions()
			tc.mod(o)
			err := o.Validate()
			if tc.wantIn == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("error %v, want mention of %s", err, tc.wantIn)
			}
		})
	}
}

func TestFlagsSetOptions(t *testing.T) {
	o := validOptions()
	fs := pflag.NewFlagSet("nmi", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse([]string{"--token-mode=federated", "--assignment-wait=500ms", "--pod-cidr=10.1.0.0/16,10.2.0.0/16", "--block-instance-metadata=false",
		"--lock-file=/var/run/podid/node0/nmi.lock", "--lock-wait=5s", "--iptables=auto"}); err != nil {
		t.Fatal(err)
	}
	if o.TokenMode != "federated" || o.AssignmentWait != 500*time.Millisecond || len(o.PodCIDRs) != 2 || o.BlockInstanceMetadata ||
		o.LockFile != "/var/run/podid/node0/nmi.lock" || o.LockWait != 5*time.Second || o.IPTables != "auto" {
		t.Fatalf("options %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}

package cloud

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/podid/podid/internal/acrcred"
	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

// kubeletPull is kubeletCheck that also reports a node the registry's
// firewall refuses: kubeletCheck stops the test when the credential
// provider fails, which is what a firewall makes it do.
func kubeletPull(t *testing.T, e *cloudtest.Env, kubelet embedded.Identity) (string, bool) {
	t.Helper()
	o := acrcred.NewOptions(func(string) string { return "" })
	o.IMDSEndpoint = e.Cloud.Instances()[0].IMDSURL
	cfg := acrcred.AzureConfig{TenantID: e.TenantID, UseManagedIdentityExtension: true, UserAssignedIdentityID: kubelet.ClientID}
	c, err := acrcred.New(cfg, *o, acrcred.Deps{HTTPS: &http.Client{Transport: e.RegistryTransport(t)}, IMDS: &http.Client{},
		Lookup: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Credentials(context.Background(), "podidacr.azurecr.io/app/web:v1"); err != nil {
		return err.Error(), false
	}
	return kubeletCheck(t, e, kubelet)
}

// TestACRFirewallCommandsDecideThePull walks az's firewall story on a
// node: Deny shuts the kubelet out with a 403, an IP rule for the node
// lets it in, removing the rule shuts it out again.
func TestACRFirewallCommandsDecideThePull(t *testing.T) {
	e := cloudtest.StartYAMLWith(t, acrWorld, cloudtest.Options{StateDir: t.TempDir()})
	e.PushRandomImage(t, "podidacr", "app/web", "v1")
	kubelet := e.Identity(t, "kubelet")
	if _, err := cloudCommand(t, e, "acr", "attach", "--registry", "podidacr", "--principal", "kubelet"); err != nil {
		t.Fatal(err)
	}
	if out, ok := kubeletCheck(t, e, kubelet); !ok {
		t.Fatalf("before the firewall:\n%s", out)
	}
	const firewalled = "403 DENIED: client with IP '127.0.0.1' is not allowed access"
	steps := []struct {
		name string
		args []string
		// wantOut is the whole line the command prints.
		wantOut string
		// pulls is whether the kubelet can pull afterwards.
		pulls bool
	}{
		{"Deny without rules shuts the kubelet out",
			[]string{"update", "--registry", "podidacr", "--default-action", "Deny"},
			"updated registry podidacr: sku Premium, default action Deny, public network access Enabled, ip rules none", false},
		{"the same update again says nothing changed",
			[]string{"update", "--registry", "podidacr", "--default-action", "Deny"},
			"registry podidacr unchanged: sku Premium, default action Deny, public network access Enabled, ip rules none", false},
		{"a rule for the node's address (registry named by login server) lets it in",
			[]string{"network-rule", "add", "--registry", "podidacr.azurecr.io", "--ip-address", "127.0.0.1"},
			"added ip rule 127.0.0.1 to registry podidacr: sku Premium, default action Deny, public network access Enabled, ip rules 127.0.0.1", true},
		{"adding it again (as a /32) says it is there",
			[]string{"network-rule", "add", "--registry", "podidacr", "--ip-address", "127.0.0.1/32"},
			"registry podidacr already has ip rule 127.0.0.1/32: sku Premium, default action Deny, public network access Enabled, ip rules 127.0.0.1", true},
		{"disabled public access beats the rule",
			[]string{"update", "--registry", "podidacr", "--public-network-enabled", "false"},
			"updated registry podidacr: sku Premium, default action Deny, public network access Disabled, ip rules 127.0.0.1", false},
		{"enabling it again restores the rule's effect",
			[]string{"update", "--registry", "podidacr", "--public-network-enabled", "true"},
			"updated registry podidacr: sku Premium, default action Deny, public network access Enabled, ip rules 127.0.0.1", true},
		{"removing the rule shuts the kubelet out again",
			[]string{"network-rule", "remove", "--registry", "podidacr", "--ip-address", "127.0.0.1"},
			"removed ip rule 127.0.0.1 from registry podidacr: sku Premium, default action Deny, public network access Enabled, ip rules none", false},
		{"removing it again says there is no such rule",
			[]string{"network-rule", "remove", "--registry", "podidacr", "--ip-address", "127.0.0.1"},
			"registry podidacr has no ip rule 127.0.0.1: sku Premium, default action Deny, public network access Enabled, ip rules none", false},
		{"Allow opens the registry again",
			[]string{"update", "--registry", "podidacr", "--default-action", "Allow"},
			"updated registry podidacr: sku Premium, default action Allow, public network access Enabled, ip rules none", true},
	}
	for _, s := range steps {
		out, err := cloudCommand(t, e, append([]string{"acr"}, s.args...)...)
		if err != nil || out != s.wantOut+"\n" {
			t.Fatalf("%s: podid cloud acr %s: %v\ngot  %q\nwant %q", s.name, strings.Join(s.args, " "), err, out, s.wantOut+"\n")
		}
		report, ok := kubeletPull(t, e, kubelet)
		if ok != s.pulls || (!ok && !strings.Contains(report, firewalled)) {
			t.Fatalf("%s: pull ok=%v, want %v:\n%s", s.name, ok, s.pulls, report)
		}
	}
}

func TestACRFirewallCommandRefusals(t *testing.T) {
	e := cloudtest.StartYAMLWith(t, acrWorld, cloudtest.Options{StateDir: t.TempDir()})
	cases := map[string]struct {
		args    []string
		wantErr []string
	}{
		"Deny on a Basic registry is Azure's NetworkRuleSetNotSupported with the way out": {
			args: []string{"update", "--registry", "abacacr", "--default-action", "Deny"},
			wantErr: []string{"update registry abacacr: ", "400 Bad Request", `"code":"NetworkRuleSetNotSupported"`,
				"registry 'abacacr' is Basic", "; network rules need the Premium SKU: add --sku Premium"}},
		"disabling public access on a Basic registry is refused the same way": {
			args:    []string{"update", "--registry", "abacacr", "--public-network-enabled", "false"},
			wantErr: []string{`"code":"NetworkRuleSetNotSupported"`, "add --sku Premium"}},
		"an unknown SKU is Azure's InvalidSku": {
			args:    []string{"update", "--registry", "podidacr", "--sku", "Gold"},
			wantErr: []string{`"code":"InvalidSku","message":"The SKU 'Gold' is not valid. Supported SKUs are Basic, Standard, Premium."`}},
		"an unknown default action is Azure's InvalidRequestContent": {
			args:    []string{"update", "--registry", "podidacr", "--default-action", "Block"},
			wantErr: []string{`"code":"InvalidRequestContent"`, "'Block' of networkRuleSet.defaultAction is not one of Allow, Deny"}},
		"a malformed address is Azure's InvalidIpRule": {
			args:    []string{"network-rule", "add", "--registry", "podidacr", "--ip-address", "10.0.0.300"},
			wantErr: []string{"add ip rule 10.0.0.300 of registry podidacr: ", `"code":"InvalidIpRule"`, "Specify an IPv4 address or an IPv4 CIDR range."}},
		"removing a malformed address is InvalidIpRule too": {
			args:    []string{"network-rule", "remove", "--registry", "podidacr", "--ip-address", "fe80::1"},
			wantErr: []string{`"code":"InvalidIpRule"`}},
		"an unknown registry lists the ones there are": {
			args:    []string{"update", "--registry", "nosuchacr", "--sku", "Premium"},
			wantErr: []string{"--registry: ACR nosuchacr not found; the cloud has podidacr, abacacr"}},
		"an unknown registry for a rule lists them too": {
			args:    []string{"network-rule", "add", "--registry", "nosuchacr", "--ip-address", "10.0.0.1"},
			wantErr: []string{"--registry: ACR nosuchacr not found; the cloud has podidacr, abacacr"}},
		"public network access takes true or false": {
			args:    []string{"update", "--registry", "podidacr", "--public-network-enabled", "maybe"},
			wantErr: []string{`--public-network-enabled: "maybe" is not true or false`}},
		"an update needs something to change": {
			args:    []string{"update", "--registry", "podidacr"},
			wantErr: []string{"nothing to update: pass --sku, --default-action or --public-network-enabled"}},
		"an update needs a registry": {
			args:    []string{"update", "--sku", "Premium"},
			wantErr: []string{"--registry is required"}},
		"a rule needs an address": {
			args:    []string{"network-rule", "add", "--registry", "podidacr"},
			wantErr: []string{"--registry and --ip-address are required"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := cloudCommand(t, e, append([]string{"acr"}, tc.args...)...)
			if err == nil {
				t.Fatalf("no error; printed %q", out)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error = %v, want %q in it", err, want)
				}
			}
		})
	}
	// No refusal changed anything.
	for _, name := range []string{"podidacr", "abacacr"} {
		r, _ := e.Cloud.Registry(name)
		if r.DefaultAction != "Allow" || r.PublicNetworkAccess != "Enabled" || len(r.IPRules) != 0 {
			t.Errorf("%s after refusals: %+v", name, r)
		}
	}
}

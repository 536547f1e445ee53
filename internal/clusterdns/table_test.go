package clusterdns

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var (
	frontDoor = netip.MustParseAddr("10.254.0.1")
	service   = netip.MustParseAddr("10.96.0.10")
)

func azureTable(t *testing.T) *table {
	t.Helper()
	tb, err := newTable(map[string]netip.Addr{
		"login.microsoftonline.com": frontDoor,
		"Management.Azure.com.":     frontDoor,
		"*.vault.azure.net":         frontDoor,
		"*.azurecr.io":              frontDoor,
	}, func(name string) (netip.Addr, bool) {
		return service, name == "web.default.svc.cluster.local."
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestResolve(t *testing.T) {
	tb := azureTable(t)
	found := func(a netip.Addr) answer { return answer{rcode: dns.RcodeSuccess, a: a} }
	noData := answer{rcode: dns.RcodeSuccess}
	nxDomain := answer{rcode: dns.RcodeNameError}
	cases := map[string]struct {
		name  string
		qtype uint16
		want  answer
	}{
		"an exact name answers its A record":                 {"login.microsoftonline.com.", dns.TypeA, found(frontDoor)},
		"a name given with a trailing dot in Names is found": {"management.azure.com.", dns.TypeA, found(frontDoor)},
		"a question without a trailing dot is found":         {"login.microsoftonline.com", dns.TypeA, found(frontDoor)},
		"case does not matter":                               {"LOGIN.MicrosoftOnline.COM.", dns.TypeA, found(frontDoor)},
		"a vault answers through the wildcard":               {"kv-westus2-aks.vault.azure.net.", dns.TypeA, found(frontDoor)},
		"a registry answers through the wildcard":            {"myacr.azurecr.io.", dns.TypeA, found(frontDoor)},
		"AAAA of a known name is NODATA, not NXDOMAIN":       {"kv1.vault.azure.net.", dns.TypeAAAA, noData},
		"another type of a known name is NODATA":             {"login.microsoftonline.com.", dns.TypeHTTPS, noData},
		"the wildcard's own zone does not exist":             {"vault.azure.net.", dns.TypeA, nxDomain},
		"two labels under a wildcard do not exist":           {"a.kv1.vault.azure.net.", dns.TypeA, nxDomain},
		"a search-list expansion of a vault does not exist":  {"kv1.vault.azure.net.default.svc.cluster.local.", dns.TypeA, nxDomain},
		"a search-list expansion of Azure AD does not exist": {"login.microsoftonline.com.cluster.local.", dns.TypeAAAA, nxDomain},
		"an unknown cluster name does not exist":             {"db.default.svc.cluster.local.", dns.TypeA, nxDomain},
		"a name outside Azure's does not exist":              {"example.com.", dns.TypeA, nxDomain},
		"the root does not exist":                            {".", dns.TypeA, nxDomain},
		"the lookup hook answers what the table does not":    {"web.default.svc.cluster.local.", dns.TypeA, found(service)},
		"the lookup hook's names are NODATA for AAAA":        {"Web.Default.svc.cluster.local", dns.TypeAAAA, noData},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tb.resolve(tc.name, tc.qtype); got != tc.want {
				t.Fatalf("resolve(%q, %s) = %+v; want %+v", tc.name, dns.TypeToString[tc.qtype], got, tc.want)
			}
		})
	}
}

func TestNewTableRefusesBadNames(t *testing.T) {
	cases := map[string]struct {
		name    string
		addr    netip.Addr
		wantErr string
	}{
		"an IPv6 answer":                   {"login.microsoftonline.com", netip.MustParseAddr("fd00::1"), "not an IPv4 address"},
		"no answer at all":                 {"login.microsoftonline.com", netip.Addr{}, "not an IPv4 address"},
		"a wildcard inside a label":        {"kv*.vault.azure.net", frontDoor, "wildcard"},
		"a wildcard below the first label": {"a.*.vault.azure.net", frontDoor, "wildcard"},
		"a bare wildcard":                  {"*", frontDoor, "wildcard"},
		"a wildcard over the root":         {"*.", frontDoor, "not a domain name"},
		"an empty name":                    {"", frontDoor, "not a domain name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := newTable(map[string]netip.Addr{tc.name: tc.addr}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("newTable(%q) error = %v; want one containing %q", tc.name, err, tc.wantErr)
			}
		})
	}
}

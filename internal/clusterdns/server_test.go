package clusterdns_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podid/podid/internal/clusterdns"
)

var frontDoor = netip.MustParseAddr("10.254.0.1")

func startServer(t *testing.T) *clusterdns.Server {
	t.Helper()
	s, err := clusterdns.Start(context.Background(), clusterdns.Options{
		Addr: "127.0.0.1:0",
		Names: map[string]netip.Addr{
			"login.microsoftonline.com": frontDoor,
			"management.azure.com":      frontDoor,
			"*.vault.azure.net":         frontDoor,
			"*.azurecr.io":              frontDoor,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close DNS server: %v", err)
		}
	})
	return s
}

func TestServerAnswers(t *testing.T) {
	s := startServer(t)
	cases := map[string]struct {
		name      string
		qtype     uint16
		wantRcode int
		wantA     []string
	}{
		"Azure AD's host answers the front door":       {"login.microsoftonline.com.", dns.TypeA, dns.RcodeSuccess, []string{"10.254.0.1"}},
		"Resource Manager's host answers it":           {"management.azure.com.", dns.TypeA, dns.RcodeSuccess, []string{"10.254.0.1"}},
		"any vault answers through the wildcard":       {"kv-westus2-aks.vault.azure.net.", dns.TypeA, dns.RcodeSuccess, []string{"10.254.0.1"}},
		"a name in capitals answers all the same":      {"KV-WestUS2-AKS.Vault.Azure.Net.", dns.TypeA, dns.RcodeSuccess, []string{"10.254.0.1"}},
		"AAAA of a vault is NODATA":                    {"kv-westus2-aks.vault.azure.net.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		"the pod's first search expansion is NXDOMAIN": {"kv-westus2-aks.vault.azure.net.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		"the last search expansion is NXDOMAIN":        {"kv-westus2-aks.vault.azure.net.cluster.local.", dns.TypeAAAA, dns.RcodeNameError, nil},
		"an unknown cluster name is NXDOMAIN":          {"kubernetes.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		"a name outside Azure's is NXDOMAIN":           {"example.com.", dns.TypeA, dns.RcodeNameError, nil},
	}
	for _, network := range []string{"udp", "tcp"} {
		client := &dns.Client{Net: network, Timeout: 2 * time.Second}
		for name, tc := range cases {
			t.Run(network+"/"+name, func(t *testing.T) {
				req := new(dns.Msg).SetQuestion(tc.name, tc.qtype)
				resp, _, err := client.Exchange(req, s.Addr())
				if err != nil {
					t.Fatalf("exchange over %s: %v", network, err)
				}
				if resp.Rcode != tc.wantRcode || !resp.Authoritative {
					t.Fatalf("rcode = %s, authoritative = %v; want %s, true", dns.RcodeToString[resp.Rcode], resp.Authoritative, dns.RcodeToString[tc.wantRcode])
				}
				var got []string
				for _, rr := range resp.Answer {
					a, ok := rr.(*dns.A)
					if !ok || a.Hdr.Ttl != 30 || a.Hdr.Name != tc.name {
						t.Fatalf("answer %v; want A records for %s with TTL 30", rr, tc.name)
					}
					got = append(got, a.A.String())
				}
				if !slices.Equal(got, tc.wantA) {
					t.Fatalf("A records = %v; want %v", got, tc.wantA)
				}
			})
		}
	}
}

func TestServerEchoesEDNS(t *testing.T) {
	s := startServer(t)
	req := new(dns.Msg).SetQuestion("kv1.vault.azure.net.", dns.TypeA).SetEdns0(4096, false)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(req, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if opt := resp.IsEdns0(); opt == nil || opt.UDPSize() != 1232 {
		t.Fatalf("OPT record = %v; want one advertising 1232 bytes", opt)
	}
}

// TestGoResolver asks through Go's own stub resolver, which pods built with
// Go use and which is strict about replies without records.
func TestGoResolver(t *testing.T) {
	s := startServer(t)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.Addr())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// LookupHost asks A and AAAA together; NODATA for AAAA must not fail it.
	addrs, err := r.LookupHost(ctx, "myvault.vault.azure.net")
	if err != nil {
		t.Fatalf("look up myvault.vault.azure.net: %v", err)
	}
	if !slices.Equal(addrs, []string{"10.254.0.1"}) {
		t.Fatalf("myvault.vault.azure.net = %v; want [10.254.0.1]", addrs)
	}

	_, err = r.LookupHost(ctx, "nothing.example.com.")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("look up nothing.example.com: err = %v; want a not-found error, not a server failure", err)
	}
}

func TestStartRefusesBadOptions(t *testing.T) {
	cases := map[string]clusterdns.Options{
		"a name with an IPv6 answer": {Addr: "127.0.0.1:0", Names: map[string]netip.Addr{"a.example": netip.MustParseAddr("::1")}},
		"an address without a port":  {Addr: "127.0.0.1"},
		"a negative TTL":             {Addr: "127.0.0.1:0", TTL: -time.Second},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			if s, err := clusterdns.Start(context.Background(), opts); err == nil {
				_ = s.Close()
				t.Fatal("Start succeeded; want an error")
			}
		})
	}
}

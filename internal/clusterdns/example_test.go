package clusterdns_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/podid/podid/internal/clusterdns"
)

// podid up serves one of these per real node, on the node IP, mapping every
// name of cloud.AzureNames() to the front door on the same IP.
func Example() {
	nodeIP := netip.MustParseAddr("10.254.0.1")
	s, err := clusterdns.Start(context.Background(), clusterdns.Options{
		Addr: "127.0.0.1:0", // in podid up: "10.254.0.1:53"
		Names: map[string]netip.Addr{
			"login.microsoftonline.com": nodeIP,
			"management.azure.com":      nodeIP,
			"*.vault.azure.net":         nodeIP,
		},
	})
	if err != nil {
		panic(err)
	}
	defer func() { _ = s.Close() }()

	for _, name := range []string{"kv1.vault.azure.net.default.svc.cluster.local.", "kv1.vault.azure.net."} {
		resp, err := dns.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), s.Addr())
		if err != nil {
			panic(err)
		}
		fmt.Println(name, dns.RcodeToString[resp.Rcode], resp.Answer)
	}
	// Output:
	// kv1.vault.azure.net.default.svc.cluster.local. NXDOMAIN []
	// kv1.vault.azure.net. NOERROR [kv1.vault.azure.net.	30	IN	A	10.254.0.1]
}

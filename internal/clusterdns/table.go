package clusterdns

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// table answers names from the fixed Options.Names and the Lookup hook. It is
// read-only after newTable, so the handler needs no lock.
type table struct {
	// exact maps a canonical name ("management.azure.com.") to its address.
	exact map[string]netip.Addr
	// wildcard maps the zone of a "*." name ("vault.azure.net.") to the
	// address every name one label under it gets.
	wildcard map[string]netip.Addr
	lookup   func(name string) (netip.Addr, bool)
}

// newTable validates names and indexes them by canonical form (lower case,
// fully qualified), which is also how questions are looked up.
func newTable(names map[string]netip.Addr, lookup func(string) (netip.Addr, bool)) (*table, error) {
	t := &table{exact: map[string]netip.Addr{}, wildcard: map[string]netip.Addr{}, lookup: lookup}
	for name, addr := range names {
		if !addr.Is4() {
			return nil, fmt.Errorf("name %q: answer %v is not an IPv4 address", name, addr)
		}
		zone, isWildcard := strings.CutPrefix(name, "*.")
		if strings.Contains(zone, "*") {
			return nil, fmt.Errorf("name %q: a wildcard may only be the whole first label, as in *.vault.azure.net", name)
		}
		if _, ok := dns.IsDomainName(zone); !ok || strings.Trim(zone, ".") == "" {
			return nil, fmt.Errorf("name %q is not a domain name", name)
		}
		if isWildcard {
			t.wildcard[dns.CanonicalName(zone)] = addr
		} else {
			t.exact[dns.CanonicalName(zone)] = addr
		}
	}
	return t, nil
}

// answer is the decision for one question.
type answer struct {
	// rcode is dns.RcodeSuccess when the name exists, else dns.RcodeNameError.
	rcode int
	// a, when valid, is the A record to answer. A name that exists but has
	// no record of the asked type (AAAA, MX, ...) gets NOERROR and no
	// records: NODATA.
	a netip.Addr
}

// resolve decides the answer for a name and type. Exact names win over
// wildcards. A wildcard covers exactly one label, like a certificate's: the
// front door behind *.vault.azure.net only serves one-label vault names, so
// "a.b.vault.azure.net" is better off not existing than failing in TLS.
//
// Unknown names, including the pod's search-list expansions such as
// "kv.vault.azure.net.default.svc.cluster.local.", get NXDOMAIN rather than
// REFUSED or SERVFAIL: NXDOMAIN says the name does not exist, so glibc's,
// musl's and Go's resolvers try the next search suffix and then the bare name
// at once, whereas REFUSED and SERVFAIL read as a broken server, which
// resolvers retry on every nameserver, and Go's resolver can end the whole
// lookup with "server misbehaving".
func (t *table) resolve(name string, qtype uint16) answer {
	name = dns.CanonicalName(name)
	addr, ok := t.exact[name]
	if !ok {
		if _, zone, found := strings.Cut(name, "."); found && !strings.HasPrefix(name, ".") {
			addr, ok = t.wildcard[zone]
		}
	}
	if !ok && t.lookup != nil {
		addr, ok = t.lookup(name)
	}
	switch {
	case !ok:
		return answer{rcode: dns.RcodeNameError}
	case qtype == dns.TypeA && addr.Is4():
		return answer{rcode: dns.RcodeSuccess, a: addr}
	default:
		return answer{rcode: dns.RcodeSuccess}
	}
}

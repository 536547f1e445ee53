//go:build linux

package netrules

import (
	"fmt"

	goiptables "github.com/coreos/go-iptables/iptables"
)

// NewApplier returns an applier for the node's IPv4 iptables (the
// metadata address is IPv4) run through binary, a name on PATH such as
// "iptables-nft" or an absolute path (see ResolveIPTables), waiting for
// the xtables lock.
func NewApplier(binary string) (*Applier, error) {
	ipt, err := goiptables.New(goiptables.IPFamily(goiptables.ProtocolIPv4), goiptables.Timeout(5), goiptables.Path(binary))
	if err != nil {
		return nil, fmt.Errorf("open iptables %s: %w", binary, err)
	}
	return &Applier{ipt: ipt}, nil
}

var _ iptables = (*goiptables.IPTables)(nil)

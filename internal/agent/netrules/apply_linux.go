//go:build linux

package netrules

import (
	"fmt"

	goiptables "github.com/coreos/go-iptables/iptables"
)

// NewApplier returns an applier for the node's IPv4 iptables (the
// metadata address is IPv4), waiting for the xtables lock.
func NewApplier() (*Applier, error) {
	ipt, err := goiptables.New(goiptables.IPFamily(goiptables.ProtocolIPv4), goiptables.Timeout(5))
	if err != nil {
		return nil, fmt.Errorf("open iptables: %w", err)
	}
	return &Applier{ipt: ipt}, nil
}

var _ iptables = (*goiptables.IPTables)(nil)

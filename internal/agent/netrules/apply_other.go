//go:build !linux

package netrules

import (
	"errors"
	"runtime"
)

// NewApplier fails: iptables exists on Linux only.
func NewApplier(binary string) (*Applier, error) {
	return nil, errors.New("iptables rules are not supported on " + runtime.GOOS)
}

//go:build !linux

package podif

import (
	"errors"
	"runtime"
)

// Discover fails: network namespaces and netlink are Linux's.
func Discover(proc string) (Found, error) {
	return Found{}, errors.New("finding pods' host-side interfaces is not supported on " + runtime.GOOS)
}

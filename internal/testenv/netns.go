package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireNetworkNamespaces skips a test that needs root, iproute2, iptables
// and curl when they are missing, except under CI (CI set), where .ci/run
// installs them and a missing one fails the test instead of hiding it.
func RequireNetworkNamespaces(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root to create network namespaces")
	}
	for _, bin := range []string{"ip", "iptables", "curl"} {
		if _, err := exec.LookPath(bin); err != nil {
			Missing(t, "needs %s", bin)
		}
	}
}

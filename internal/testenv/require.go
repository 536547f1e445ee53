package testenv

import (
	"os"
	"testing"
)

// Missing reports that something a test needs is not on this machine: the
// test is skipped, except under CI (CI set), where .ci/run installs
// everything the tests need and a missing part fails the test instead of
// hiding it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

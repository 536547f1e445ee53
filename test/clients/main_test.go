package clients

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// The test binary plays three roles, chosen by environment variables: the
// test itself, the node (nodeEnv, run inside the node namespace by
// TestClientMatrix) and the Go client (goClientEnv, run inside the pod
// namespace).
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(nodeEnv) != "":
		ctrl.SetLogger(logr.Discard())
		os.Exit(runNode())
	case os.Getenv(goClientEnv) != "":
		os.Exit(runGoClient(os.Getenv(goClientEnv)))
	}
	os.Exit(m.Run())
}

package faults

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// TestMain lets this test binary play the parts the tests re-execute it
// for inside network namespaces: the node, the pod's load loop and the
// node's IMDS.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(nodeEnv) != "":
		ctrl.SetLogger(logr.Discard())
		os.Exit(runNode())
	case os.Getenv(loadEnv) != "":
		os.Exit(runLoad())
	case os.Getenv(imdsEnv) != "":
		os.Exit(runIMDS())
	}
	os.Exit(m.Run())
}

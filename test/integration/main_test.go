package integration

import (
	"context"
	"fmt"
	"github.com/go-logr/logr"
	"os"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/testenv"
)

// env is the cluster every test of this package shares.
var env *testenv.Env

// nodes is how many fake nodes the shared cluster has.
const nodes = 3

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(m.Run()) // a child started by TestNoProcessOutlivesAKilledTest
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(logr.Discard()) // the tests read outcomes from the API, not logs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var err error
	env, err = testenv.Start(ctx, testenv.Options{Nodes: nodes, Controllers: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test cluster:", err)
		return 1
	}
	defer env.Stop()
	fmt.Fprintf(os.Stderr, "test cluster with %d nodes ready in %s\n", nodes, time.Since(start).Round(time.Millisecond))

	wait, err := env.RunMIC(ctx, controller.NewOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	cancel()
	if err := wait(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	return code
}

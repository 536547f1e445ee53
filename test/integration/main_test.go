package integration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var err error
	env, err = testenv.Start(ctx, testenv.Options{Nodes: nodes})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test cluster:", err)
		return 1
	}
	defer env.Stop()
	fmt.Fprintf(os.Stderr, "test cluster with %d nodes ready in %s\n", nodes, time.Since(start).Round(time.Millisecond))

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "create manager:", err)
		return 1
	}
	opts := controller.NewOptions()
	opts.LeaderElect = false
	if err := controller.Register(ctx, mgr, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-mgrDone; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	return code
}

package assign_test

import (
	"context"
	"testing"

	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/controller/assign"
	"github.com/podid/podid/internal/testenv"
)

// newTestManager is a manager on env with mic's cache options and no
// metrics or probe listeners.
func newTestManager(t *testing.T, env *testenv.Env) ctrl.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Cache:                  controller.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The package's tests run several managers, with controllers of
		// one name, in one process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("create manager: %v", err)
	}
	return mgr
}

// startManager runs mgr until the test ends.
func startManager(ctx context.Context, t *testing.T, mgr ctrl.Manager) {
	t.Helper()
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// drainedRecorder is an event recorder whose events are read and dropped
// until the test ends.
func drainedRecorder(t *testing.T) *record.FakeRecorder {
	recorder := record.NewFakeRecorder(100)
	go func() {
		for range recorder.Events { // drain
		}
	}()
	t.Cleanup(func() { close(recorder.Events) })
	return recorder
}

// startMIC runs the assign reconciler, federated, until the test ends.
func startMIC(ctx context.Context, t *testing.T, env *testenv.Env) {
	t.Helper()
	mgr := newTestManager(t, env)
	r := &assign.Reconciler{Client: mgr.GetClient(), Recorder: drainedRecorder(t), DefaultTokenMode: podidv1.TokenModeFederated}
	if err := r.Setup(ctx, mgr); err != nil {
		t.Fatalf("set up assign reconciler: %v", err)
	}
	startManager(ctx, t, mgr)
}

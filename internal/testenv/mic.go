package testenv

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podid/podid/internal/controller"
)

// RunMIC runs mic's controllers in this process against the Env until ctx
// ends; wait returns the manager's error after that. Leader election and
// the metrics and probe servers are off.
func (e *Env) RunMIC(ctx context.Context, opts *controller.Options) (wait func() error, err error) {
	opts.LeaderElect = false
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mic options: %w", err)
	}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Cache:                  controller.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	if err := controller.Register(ctx, mgr, opts); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() error { return <-done }, nil
}

package controller

import (
	"context"
	"fmt"
	"net/http"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podid/podid/internal/cloudassign"
	"github.com/podid/podid/internal/controller/assign"
	"github.com/podid/podid/internal/controller/normalize"
	"github.com/podid/podid/internal/kubeclient"
)

// Run starts mic and blocks until ctx ends or the manager fails.
func Run(ctx context.Context, opts *Options) error {
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("invalid options: %w", err)
	}
	cfg, err := kubeclient.Config(opts.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = opts.QPS, opts.Burst
	cfg.UserAgent = "podid-mic"
	lease, renew, retry := opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod
	lock, err := leaseLock(cfg, opts)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		LeaderElectionResourceLockInterface: lock,
		Cache:                               CacheOptions(),
		Scheme:                              kubeclient.Scheme(),
		Metrics:                             metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:              opts.ProbeAddr,
		PprofBindAddress:                    opts.PprofAddr,
		LeaderElection:                      opts.LeaderElect,
		LeaderElectionID:                    LeaderElectionID,
		LeaderElectionNamespace:             opts.LeaderElectionNamespace,
		LeaseDuration:                       &lease,
		RenewDeadline:                       &renew,
		RetryPeriod:                         &retry,
		// A new leader should start at once rather than wait out the lease.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("create controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("informer caches have not synced")
		}
		return nil
	}); err != nil {
		return fmt.Errorf("add readiness check: %w", err)
	}
	if err := Register(ctx, mgr, opts); err != nil {
		return err
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("run controller manager: %w", err)
	}
	return nil
}

// Register adds every mic controller to mgr. Tests use it to run mic's
// controllers in-process against a test cluster.
func Register(ctx context.Context, mgr ctrl.Manager, opts *Options) error {
	if err := normalize.Setup(mgr, opts.TokenMode); err != nil {
		return err
	}
	recorder := mgr.GetEventRecorderFor("podid-mic")
	pods := &assign.Reconciler{
		Client:                  mgr.GetClient(),
		Recorder:                recorder,
		ClusterWide:             opts.ClusterWideBindings,
		DefaultTokenMode:        opts.TokenMode,
		MaxConcurrentReconciles: opts.Workers,
		CloudAssignment:         opts.Cloud.Enabled(),
	}
	if err := pods.Setup(ctx, mgr); err != nil {
		return err
	}
	if opts.Cloud.Enabled() {
		machines, err := opts.Cloud.NewMachines()
		if err != nil {
			return err
		}
		cloud := &cloudassign.Controller{
			Client: mgr.GetClient(), Recorder: recorder, Machines: machines,
			Immutable: opts.Cloud.Immutable, Resync: opts.Cloud.Resync,
		}
		if err := cloud.Setup(ctx, mgr); err != nil {
			return err
		}
	}
	bindings := &assign.BindingReconciler{Client: mgr.GetClient(), Recorder: recorder}
	return bindings.Setup(mgr)
}

// leaseLock returns a Lease lock under the configured identity, or nil to
// let controller-runtime build one named after the host.
func leaseLock(cfg *rest.Config, opts *Options) (resourcelock.Interface, error) {
	if !opts.LeaderElect || opts.LeaderElectionIdentity == "" {
		return nil, nil
	}
	cs, err := kubernetes.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("create leader election client: %w", err)
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, opts.LeaderElectionNamespace, LeaderElectionID,
		cs.CoreV1(), cs.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: opts.LeaderElectionIdentity})
	if err != nil {
		return nil, fmt.Errorf("create leader election lock: %w", err)
	}
	return lock, nil
}

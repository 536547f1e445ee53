package controller

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloudassign"
)

// Options configure mic. Defaults come from NewOptions.
type Options struct {
	// Kubeconfig is a kubeconfig path; empty means in-cluster or $KUBECONFIG.
	Kubeconfig string
	// MetricsAddr serves Prometheus /metrics; "0" turns it off.
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz; "0" turns it off.
	ProbeAddr string
	// PprofAddr serves Go's /debug/pprof; empty (the default) turns it off.
	PprofAddr string
	// LeaderElect makes replicas elect one active leader through a Lease.
	LeaderElect bool
	// LeaderElectionNamespace holds the Lease; empty means the pod's own.
	LeaderElectionNamespace string
	// LeaderElectionIdentity names this replica in the Lease; empty means
	// <hostname>_<random>.
	LeaderElectionIdentity string
	// LeaseDuration is how long a leader's claim lasts without renewal.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader tries to renew before giving up.
	RenewDeadline time.Duration
	// RetryPeriod is how often candidates try to take the lease.
	RetryPeriod time.Duration
	// QPS and Burst limit requests to the API server.
	QPS   float32
	Burst int
	// TokenMode is the cluster default, podidv1.TokenModeFederated or
	// TokenModeNode; an identity may override it with an annotation.
	TokenMode string
	// ClusterWideBindings restores aad-pod-identity's default where a
	// binding serves pods of every namespace.
	ClusterWideBindings bool
	// Workers is how many pods are reconciled at once.
	Workers int
	// Cloud says how node-mode identities reach VMs and VMSS.
	Cloud cloudassign.CloudOptions
}

// LeaderElectionID names the Lease replicas compete for.
const LeaderElectionID = "podid-mic"

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		MetricsAddr:            ":8888",
		ProbeAddr:              ":8080",
		LeaderElect:            true,
		LeaderElectionIdentity: os.Getenv("POD_NAME"),
		LeaseDuration:          15 * time.Second,
		RenewDeadline:          10 * time.Second,
		RetryPeriod:            2 * time.Second,
		QPS:                    200,
		Burst:                  400,
		TokenMode:              podidv1.TokenModeFederated,
		Workers:                16,
	}
}

// AddFlags binds the options to flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path of a kubeconfig file; empty uses the in-cluster configuration or $KUBECONFIG.")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Address of the Prometheus /metrics endpoint; 0 disables it.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address of the /healthz and /readyz endpoints; 0 disables them.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", o.PprofAddr, "Address of Go's /debug/pprof profiling endpoints; empty disables them. Never expose it beyond the pod.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect one active replica through a coordination.k8s.io Lease named "+LeaderElectionID+".")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the Lease; empty means the namespace mic runs in.")
	fs.StringVar(&o.LeaderElectionIdentity, "leader-election-identity", o.LeaderElectionIdentity, "Name of this replica in the Lease (default $POD_NAME); empty means <hostname>_<random>. Needs --leader-election-namespace.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "How long a leader's claim lasts without renewal; a standby takes over at most this long after the leader dies.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "How long the leader keeps trying to renew before it stops leading.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "How often candidates try to acquire or renew the Lease.")
	fs.Float32Var(&o.QPS, "kube-api-qps", o.QPS, "Requests per second to the API server, sustained.")
	fs.IntVar(&o.Burst, "kube-api-burst", o.Burst, "Requests to the API server allowed in a burst above --kube-api-qps.")
	fs.StringVar(&o.TokenMode, "token-mode", o.TokenMode, "How node agents get tokens unless an identity's "+podidv1.TokenModeAnnotation+" annotation says otherwise: federated (exchange the agent's service-account token; no cloud writes, tokens in milliseconds) or node (aad-pod-identity's way: managed identities are added to the node's VM or VMSS).")
	fs.BoolVar(&o.ClusterWideBindings, "cluster-wide-bindings", o.ClusterWideBindings, "Let a binding serve pods of every namespace, as aad-pod-identity did by default. Any pod that can set the aadpodidbinding label can then use any identity; identities annotated "+podidv1.BehaviorAnnotation+": "+podidv1.BehaviorNamespaced+" stay in their namespace.")
	fs.IntVar(&o.Workers, "workers", o.Workers, "Pods reconciled at once.")
	o.Cloud.AddFlags(fs)
}

// Validate reports every option that cannot work, together.
func (o *Options) Validate() error {
	var errs []error
	if o.QPS <= 0 {
		errs = append(errs, fmt.Errorf("--kube-api-qps must be positive, got %v", o.QPS))
	}
	if o.Burst < 1 {
		errs = append(errs, fmt.Errorf("--kube-api-burst must be at least 1, got %d", o.Burst))
	}
	if o.TokenMode != podidv1.TokenModeFederated && o.TokenMode != podidv1.TokenModeNode {
		errs = append(errs, fmt.Errorf("--token-mode must be %q or %q, got %q", podidv1.TokenModeFederated, podidv1.TokenModeNode, o.TokenMode))
	}
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--workers must be at least 1, got %d", o.Workers))
	}
	if o.LeaderElect && o.LeaderElectionIdentity != "" && o.LeaderElectionNamespace == "" {
		errs = append(errs, errors.New("--leader-election-identity needs --leader-election-namespace"))
	}
	if o.LeaderElect && !(o.RetryPeriod < o.RenewDeadline && o.RenewDeadline < o.LeaseDuration) {
		errs = append(errs, fmt.Errorf("leader election needs --leader-elect-retry-period (%s) < --leader-elect-renew-deadline (%s) < --leader-elect-lease-duration (%s)", o.RetryPeriod, o.RenewDeadline, o.LeaseDuration))
	}
	if err := o.Cloud.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	clicloud "github.com/podid/podid/internal/cli/cloud"
	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/migrate"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
	"github.com/podid/podid/internal/wi"
)

// Options are the flags of `podid migrate`.
type Options struct {
	// Kubeconfig names the cluster; empty uses the podid up run in
	// StateDir when there is one, else $KUBECONFIG.
	Kubeconfig string
	// Namespace limits the workloads migrated; empty means all.
	Namespace string
	// Apply makes the changes; without it the plan is only printed.
	Apply bool
	// ClusterWideBindings is the controller's --cluster-wide-bindings.
	ClusterWideBindings bool
	// Cloud is where federated credentials are written with --apply.
	Cloud clicloud.TargetOptions
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{Cloud: clicloud.TargetOptions{StateDir: runstate.DefaultDir()}}
}

// AddFlags binds o to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig of the cluster; empty uses the podid up run of --state-dir when it runs, else $KUBECONFIG or ~/.kube/config")
	fs.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "migrate only the workloads of this namespace; empty means every namespace")
	fs.BoolVar(&o.Apply, "apply", o.Apply, "make the changes (federated credentials, service accounts, pod templates); without it the plan is printed as az and kubectl commands")
	fs.BoolVar(&o.ClusterWideBindings, "cluster-wide-bindings", o.ClusterWideBindings, "bindings serve pods of every namespace, as the controller's --cluster-wide-bindings")
	o.Cloud.AddFlags(fs)
}

// NewCommand returns `podid migrate`.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Move pod-identity workloads to workload identity without changing the applications",
		Long: `migrate reads AzureIdentities, AzureIdentityBindings and the workloads whose pod
templates carry the aadpodidbinding label, and decides what replaces them:
a federated identity credential per identity and service account (trusting
the cluster's service-account issuer), the azure.workload.identity/client-id
annotation on the service account, and the azure.workload.identity/use label
on the pod template.

By default it only prints the plan, as the az and kubectl commands that carry
it out. With --apply it makes the changes: federated credentials in the
embedded cloud of a podid up run (or --cloud-url), then the cluster objects.
Pods roll and get a projected service-account token; applications that call
the IMDS endpoint keep working, because the node agent answers such a pod by
exchanging its own token. The bindings stay until you delete them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(ctx, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, o *Options, out io.Writer) error {
	kubeconfig, err := kubeconfigOf(o)
	if err != nil {
		return err
	}
	cfg, err := kubeclient.Config(kubeconfig)
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: kubeclient.Scheme()})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	issuer, err := kubeclient.Issuer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("find the cluster's service-account issuer (federated credentials must name it): %w", err)
	}
	in, err := migrate.Gather(ctx, c, o.Namespace, issuer, o.ClusterWideBindings)
	if err != nil {
		return err
	}
	p := migrate.Decide(in)
	if err := migrate.Render(out, p); err != nil {
		return err
	}
	if !o.Apply {
		_, err := fmt.Fprintln(out, "# dry run: nothing changed; run again with --apply to make these changes")
		return err
	}
	w, err := clicloud.NewFederatedCredentialWriter(o.Cloud)
	if err != nil {
		return fmt.Errorf("--apply writes federated credentials to the embedded cloud: %w (for Azure, run the az commands above, then migrate --apply against a cloud that already has them)", err)
	}
	return migrate.Apply(ctx, c, adminCredentials{w}, p, func(line string) { fmt.Fprintln(out, "applied: "+line) })
}

// kubeconfigOf is --kubeconfig, else the podid up run's when one runs and
// nothing else names a cluster.
func kubeconfigOf(o *Options) (string, error) {
	if o.Kubeconfig != "" || os.Getenv("KUBECONFIG") != "" {
		return o.Kubeconfig, nil
	}
	rec, err := runstate.Read(plan.RecordFile(o.Cloud.StateDir))
	if err != nil {
		return "", nil
	}
	if !runstate.Alive(rec.Supervisor) {
		return "", fmt.Errorf("the podid up run in %s is not running: start it with podid up, or name a cluster with --kubeconfig", o.Cloud.StateDir)
	}
	return rec.Kubeconfig, nil
}

// adminCredentials writes the plan's credentials through the embedded
// cloud's admin API.
type adminCredentials struct {
	w *clicloud.FederatedCredentialWriter
}

func (a adminCredentials) PutFederatedCredential(ctx context.Context, c migrate.Credential) error {
	if c.Type != podidv1.UserAssignedMSI {
		return errors.New("federated credentials of service-principal identities go on the application: run the az ad app federated-credential command printed above")
	}
	return a.w.Put(ctx, embedded.AdminFederatedCredential{Identity: c.ResourceID, Name: c.Name, Issuer: c.Issuer, Subject: c.Subject, Audiences: []string{wi.Audience}})
}

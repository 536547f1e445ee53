package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// NewCommand returns `podid up`.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the whole system on this machine: control plane, embedded Azure cloud, mic, one nmi per node, a demo",
		Long: `up builds (once) or reuses kube-apiserver, kube-scheduler,
kube-controller-manager, etcd and kwok, then starts them with N fake nodes, each an instance of the world's VMSS; the embedded Azure cloud
seeded from --world, trusting the apiserver's service-account issuer; mic; one
node agent per node on the node's loopback address; and seed 004's demo:
an AzureIdentity, its binding and labelled pods. It prints what runs and the
next commands, and stops everything on Ctrl-C (or podid down with --detach).

People sign in with the embedded Azure AD as on AKS with managed Azure AD:
kube-apiserver trusts the cloud's tokens for the AKS server app next to
client certificates (podid get-credentials writes the kubeconfig).
--aad-admin-group-object-ids, --disable-local-accounts and
--enable-azure-rbac do what az aks create's flags of the same names do.

--log-format and -v apply to podid up's own log and to every log it writes
in <state-dir>/run: mic's, each node agent's and the cloud's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return run(ctx, o, supervisorArgs(cmd.Flags()), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// run prints or applies the plan; supervisorArgs start the background
// supervisor of --detach.
func run(ctx context.Context, o *Options, supervisorArgs []string, out, errOut io.Writer) error {
	p, err := makePlan(o)
	if err != nil {
		return err
	}
	if o.DryRun {
		return p.Render(out)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state folder: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.Detach {
		return detach(ctx, p, supervisorArgs, out, errOut)
	}
	lock, err := runstate.Acquire(p.LockFile)
	if errors.Is(err, runstate.ErrLocked) {
		return alreadyRunning(p)
	}
	if err != nil {
		return err
	}
	defer lock.Release()
	return supervise(ctx, o, p, out, errOut)
}

// makePlan loads the world and decides what to run.
func makePlan(o *Options) (*plan.Plan, error) {
	source, w := plan.BuiltinWorld, (*world.World)(nil)
	var err error
	if o.World != "" {
		source = o.World
		w, err = world.Load(o.World)
	} else {
		w, err = world.Parse("built-in world", plan.DefaultWorld)
	}
	if err != nil {
		return nil, fmt.Errorf("load world: %w", err)
	}
	st, err := w.State()
	if err != nil {
		return nil, fmt.Errorf("load world: %w", err)
	}
	in := plan.Input{
		StateDir: o.StateDir, Nodes: o.Nodes, RealNodes: o.RealNodes, APIServerPort: o.APIServerPort, CloudPort: o.CloudPort,
		WorldSource: source, World: st, ScaleSet: o.ScaleSet, MicApp: o.MicApp,
		TokenMode: o.TokenMode, SkipSteps: o.SkipSteps, Log: o.Log, SignIn: o.SignIn,
		WithoutPodid: o.WithoutPodid,
	}
	if !o.NoDemo {
		in.Demo = &plan.DemoInput{Identity: o.DemoIdentity, Vault: o.DemoVault, Secret: o.DemoSecret}
	}
	return plan.MakePlan(in)
}

// alreadyRunning describes the run that holds the lock.
func alreadyRunning(p *plan.Plan) error {
	rec, err := runstate.Read(p.RecordFile)
	if err != nil {
		return fmt.Errorf("podid up is already running with state folder %s (its record is not readable yet: %v); see podid status, stop it with podid down", p.StateDir, err)
	}
	return fmt.Errorf("podid up is already running with state folder %s: pid %d, started %s, apiserver %s; see podid status --state-dir %s, stop it with podid down --state-dir %s",
		p.StateDir, rec.Supervisor.PID, rec.StartedAt.Format(time.RFC3339), rec.APIServer, p.StateDir, p.StateDir)
}

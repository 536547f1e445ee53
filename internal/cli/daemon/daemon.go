package daemon

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/agent/netrules"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/logging"
)

// Default log formats: mic's text is closest to the klog text it wrote
// before; nmi keeps the JSON it always wrote.
const (
	MicLogFormat = logging.FormatText
	NMILogFormat = logging.FormatJSON
)

// NewMicCommand returns the `mic` command (controller.Run). cmd/mic
// executes it; podid adds it as a hidden subcommand.
func NewMicCommand(ctx context.Context) *cobra.Command {
	opts := controller.NewOptions()
	logOpts := logging.NewOptions(MicLogFormat)
	cmd := &cobra.Command{
		Use:           "mic",
		Short:         "Run the podid controller (mic)",
		Hidden:        true,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, flushLog, err := daemonLogger(cmd, logOpts, 0)
			if err != nil {
				return err
			}
			defer flushLog()
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return logging.Logged(log, "mic stopped", controller.Run(ctx, opts))
		},
	}
	opts.AddFlags(cmd.Flags())
	logOpts.AddFlags(cmd.Flags())
	return cmd
}

// NewNMICommand returns the `nmi` command (agent.Run) with its `cleanup`
// subcommand. cmd/nmi executes it; podid adds it as a hidden subcommand.
func NewNMICommand(ctx context.Context) *cobra.Command {
	opts := agent.NewOptions()
	logOpts := logging.NewOptions(NMILogFormat)
	var kubeconfig string
	cmd := &cobra.Command{
		Use:           "nmi",
		Short:         "Run the podid node agent (nmi)",
		Hidden:        true,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, flushLog, err := daemonLogger(cmd, logOpts, logging.RequestLogLinger)
			if err != nil {
				return err
			}
			defer flushLog()
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg, err := kubeclient.Config(kubeconfig)
			if err != nil {
				return logging.Logged(log, "nmi cannot start", err)
			}
			return logging.Logged(log, "nmi stopped", agent.Run(ctx, cfg, opts, log))
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "Path of a kubeconfig file; empty uses the in-cluster configuration or $KUBECONFIG.")
	opts.AddFlags(cmd.Flags())
	// Persistent, so that `nmi cleanup` logs the same way.
	logOpts.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(newCleanupCommand(logOpts))
	return cmd
}

func newCleanupCommand(logOpts *logging.Options) *cobra.Command {
	iptables := netrules.IPTablesOnPath
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove the node agent's iptables rules from this node (the uninstall step)",
		Long: `cleanup removes every iptables rule and chain the node agent installs on this
node, whatever addresses they were planned for, and exits.

It is the uninstall step: the agent leaves its rules in place when it stops,
so that pods never reach the node's real IMDS while an agent restarts, rolls
or crashes. Agents run by the chart's DaemonSet remove their rules themselves
when an uninstall deletes that DaemonSet; run this on a node where one could
not (its log says so), or after removing an agent installed another way. It
needs the rights to change iptables (root or NET_ADMIN); --iptables must name
the backend the agent used (auto finds it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, flushLog, err := daemonLogger(cmd, logOpts, 0)
			if err != nil {
				return err
			}
			defer flushLog()
			return logging.Logged(log, "nmi cleanup failed", agent.CleanupWith(cmd.Context(), log, iptables))
		},
	}
	agent.AddIPTablesFlag(cmd.Flags(), &iptables)
	return cmd
}

// daemonLogger validates the log options and installs their logger as the
// one of slog, klog and controller-runtime. Errors it logs are returned as
// logging.LoggedError, which main does not print again. Lines go out
// through a logging.BatchWriter lingering for linger (the agent, which logs
// every request, lingers; see logging.RequestLogLinger); the returned
// function writes what is held and must run before the command returns.
func daemonLogger(cmd *cobra.Command, o *logging.Options, linger time.Duration) (*slog.Logger, func(), error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	out := logging.NewBatchWriter(cmd.ErrOrStderr(), linger)
	log := o.New(out)
	o.Install(log)
	return log, out.Flush, nil
}

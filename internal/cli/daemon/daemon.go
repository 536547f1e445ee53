package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/kubeclient"
)

// NewMicCommand returns the hidden `mic` command (controller.Run).
func NewMicCommand(ctx context.Context) *cobra.Command {
	opts := controller.NewOptions()
	cmd := &cobra.Command{
		Use:    "mic",
		Short:  "Run the podid controller (as cmd/mic does)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctrl.SetLogger(klog.NewKlogr())
			if err := controller.Run(ctx, opts); err != nil {
				return fmt.Errorf("mic: %w", err)
			}
			return nil
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// NewNMICommand returns the hidden `nmi` command (agent.Run).
func NewNMICommand(ctx context.Context) *cobra.Command {
	opts := agent.NewOptions()
	var kubeconfig string
	cmd := &cobra.Command{
		Use:    "nmi",
		Short:  "Run the podid node agent (as cmd/nmi does)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			cfg, err := kubeclient.Config(kubeconfig)
			if err != nil {
				return fmt.Errorf("nmi: %w", err)
			}
			if err := agent.Run(ctx, cfg, opts, log); err != nil {
				return fmt.Errorf("nmi: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "Path of a kubeconfig file; empty uses the in-cluster configuration or $KUBECONFIG.")
	opts.AddFlags(cmd.Flags())
	return cmd
}

// Package cli builds the podid command line. Each subcommand lives in its
// own package under internal/cli with a NewCommand(ctx) constructor.
package cli

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/cli/acrprovider"
	"github.com/podid/podid/internal/cli/checkacr"
	"github.com/podid/podid/internal/cli/cloud"
	"github.com/podid/podid/internal/cli/daemon"
	"github.com/podid/podid/internal/cli/doctor"
	"github.com/podid/podid/internal/cli/down"
	"github.com/podid/podid/internal/cli/getcredentials"
	"github.com/podid/podid/internal/cli/gettoken"
	"github.com/podid/podid/internal/cli/images"
	"github.com/podid/podid/internal/cli/migrate"
	"github.com/podid/podid/internal/cli/status"
	"github.com/podid/podid/internal/cli/token"
	"github.com/podid/podid/internal/cli/up"
	"github.com/podid/podid/internal/cli/wiwebhook"
)

// NewRootCommand returns the podid command with its subcommands.
func NewRootCommand(ctx context.Context) *cobra.Command {
	root := &cobra.Command{
		Use:           "podid",
		Short:         "Pod identity for Kubernetes on Azure, compatible with aad-pod-identity",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCommand(), cloud.NewCommand(ctx),
		up.NewCommand(ctx), down.NewCommand(ctx), status.NewCommand(ctx),
		token.NewCommand(ctx), images.NewCommand(ctx), doctor.NewCommand(ctx), migrate.NewCommand(ctx),
		daemon.NewMicCommand(ctx), daemon.NewNMICommand(ctx))
	root.AddCommand(wiwebhook.NewCommand(ctx))
	root.AddCommand(acrprovider.NewCommand(ctx), checkacr.NewCommand(ctx))
	root.AddCommand(getcredentials.NewCommand(ctx), gettoken.NewCommand(ctx))
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the podid version",
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "podid", v)
			return err
		},
	}
}

package status

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	cliup "github.com/podid/podid/internal/cli/up"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// NewCommand returns `podid status`.
func NewCommand(_ context.Context) *cobra.Command {
	dir := runstate.DefaultDir()
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what a podid up run is running; exit status 1 when nothing runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(dir, cmd.OutOrStdout())
		},
	}
	cliup.AddStateDirFlag(cmd.Flags(), &dir)
	return cmd
}

func run(dir string, out io.Writer) error {
	rec, err := runstate.Read(plan.RecordFile(dir))
	if err != nil || !runstate.Alive(rec.Supervisor) {
		return fmt.Errorf("podid is not running (no live podid up in %s); start it with podid up", dir)
	}
	return plan.RenderStatus(out, rec, runstate.Alive)
}

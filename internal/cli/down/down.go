package down

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/agent"
	cliup "github.com/podid/podid/internal/cli/up"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

const (
	// stopWait is how long the supervisor gets to stop its children.
	stopWait = 30 * time.Second
	// killWait is how long SIGKILLed leftovers get to vanish.
	killWait = 5 * time.Second
)

// NewCommand returns `podid down`.
func NewCommand(ctx context.Context) *cobra.Command {
	dir := runstate.DefaultDir()
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop a detached podid up and every process it started",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(ctx, dir, cmd.OutOrStdout())
		},
	}
	cliup.AddStateDirFlag(cmd.Flags(), &dir)
	return cmd
}

func run(ctx context.Context, dir string, out io.Writer) error {
	path := plan.RecordFile(dir)
	rec, err := runstate.Read(path)
	if err != nil {
		if err := sweepRealNodes(ctx, dir); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "podid is not running (no record in %s)\n", dir)
		return err
	}
	procs := rec.All()
	if len(alive(procs)) == 0 {
		_ = os.Remove(path)
		if err := sweepRealNodes(ctx, dir); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "podid is not running (the run recorded in %s has ended)\n", dir)
		return err
	}
	// The supervisor stops its children in order; SIGKILL is for leftovers.
	if err := runstate.Signal(rec.Supervisor, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal podid up (pid %d): %w", rec.Supervisor.PID, err)
	}
	if left := waitGone(ctx, procs, stopWait); len(left) > 0 {
		for _, p := range left {
			_ = runstate.Signal(p, syscall.SIGKILL)
		}
		if left := waitGone(ctx, left, killWait); len(left) > 0 {
			return fmt.Errorf("processes still running after SIGKILL: %v", names(left))
		}
	}
	_ = os.Remove(path)
	if err := sweepRealNodes(ctx, dir); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "podid stopped: %d processes (%v)\n", len(procs), names(procs))
	return err
}

// sweepRealNodes removes what real nodes left when podid up could not
// stop them itself (it was killed): their pods, processes, mounts, bridges
// and cgroups, and the node agents' iptables rules, the uninstall a clean
// stop does. After a clean stop it finds nothing to remove.
func sweepRealNodes(ctx context.Context, dir string) error {
	found, err := node.CleanupAll(ctx, filepath.Join(dir, plan.RunDirName), nil)
	if !found {
		return err
	}
	if rerr := agent.Cleanup(slog.New(slog.DiscardHandler)); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("remove what the real nodes left: %w", err)
	}
	return nil
}

func alive(procs []plan.Process) []plan.Process {
	var out []plan.Process
	for _, p := range procs {
		if runstate.Alive(p) {
			out = append(out, p)
		}
	}
	return out
}

// waitGone waits until no process of procs is alive; it returns those left.
func waitGone(ctx context.Context, procs []plan.Process, d time.Duration) []plan.Process {
	deadline := time.Now().Add(d)
	for {
		left := alive(procs)
		if len(left) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func names(procs []plan.Process) []string {
	var out []string
	for _, p := range procs {
		out = append(out, fmt.Sprintf("%s %d", p.Name, p.PID))
	}
	return out
}

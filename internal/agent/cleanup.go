package agent

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/podid/podid/internal/agent/netrules"
)

// Cleanup removes every iptables rule and chain the agent installs on this
// node, whatever addresses they were planned for, with the iptables on
// PATH. It is the uninstall step (`podid nmi cleanup`, run by the chart's
// uninstall hook): the agent itself never removes its rules, so a node is
// never left without the redirect and the guard while an agent restarts,
// rolls or crashes.
func Cleanup(log *slog.Logger) error {
	return CleanupWith(context.Background(), log, netrules.IPTablesOnPath)
}

// CleanupWith is Cleanup through the iptables --iptables names (see
// Options.IPTables): an agent that wrote its rules with iptables-legacy
// must have them removed with it too.
func CleanupWith(ctx context.Context, log *slog.Logger, iptables string) error {
	if log == nil {
		log = slog.Default()
	}
	binary, err := chooseIPTables(ctx, iptables, log)
	if err != nil {
		return err
	}
	applier, err := netrules.NewApplier(binary)
	if err != nil {
		return err
	}
	removed, err := applier.RemoveAll()
	if err != nil {
		return fmt.Errorf("remove the agent's iptables rules: %w", err)
	}
	log.Info("iptables rules removed", "chains", removed)
	return nil
}

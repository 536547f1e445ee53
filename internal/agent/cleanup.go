package agent

import (
	"fmt"
	"log/slog"

	"github.com/podid/podid/internal/agent/netrules"
)

// Cleanup removes every iptables rule and chain the agent installs on this
// node, whatever addresses they were planned for. It is the uninstall step
// (`podid nmi cleanup`, run by the chart's uninstall hook): the agent
// itself never removes its rules, so a node is never left without the
// redirect and the guard while an agent restarts, rolls or crashes.
func Cleanup(log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	applier, err := netrules.NewApplier()
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

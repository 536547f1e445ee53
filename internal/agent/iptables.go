package agent

import (
	"context"
	"log/slog"

	"github.com/podid/podid/internal/agent/netrules"
)

// chooseIPTables resolves --iptables on this node and logs the binary and
// why, so that rules missing from `iptables-save` of one backend can be
// traced to the other.
func chooseIPTables(ctx context.Context, value string, log *slog.Logger) (string, error) {
	c, err := netrules.ResolveIPTables(ctx, value, netrules.ExecSave)
	if err != nil {
		return "", err
	}
	log.Info("iptables chosen", "iptables", value, "binary", c.Binary, "reason", c.Reason)
	return c.Binary, nil
}

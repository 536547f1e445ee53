// Command nmi is podid's node agent: it answers the IMDS token endpoint for
// the pods of its node, and `nmi cleanup` removes its iptables rules. See
// internal/agent; its flags are those of `podid nmi` (internal/cli/daemon).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/podid/podid/internal/cli/daemon"
	"github.com/podid/podid/internal/logging"
)

func main() {
	ctx := context.Background()
	if err := daemon.NewNMICommand(ctx).ExecuteContext(ctx); err != nil {
		if !logging.IsLogged(err) {
			fmt.Fprintln(os.Stderr, "nmi:", err)
		}
		os.Exit(1)
	}
}

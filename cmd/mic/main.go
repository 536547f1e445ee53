// Command mic is podid's controller. See internal/controller; its flags are
// those of `podid mic` (internal/cli/daemon).
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
	if err := daemon.NewMicCommand(ctx).ExecuteContext(ctx); err != nil {
		if !logging.IsLogged(err) {
			fmt.Fprintln(os.Stderr, "mic:", err)
		}
		os.Exit(1)
	}
}

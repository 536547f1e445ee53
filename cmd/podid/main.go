// Command podid is the podid command line: `podid up` runs the whole system
// on this machine, `podid cloud` the embedded Azure identity cloud alone.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/podid/podid/internal/cli"
	"github.com/podid/podid/internal/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.NewRootCommand(ctx).ExecuteContext(ctx); err != nil {
		if !logging.IsLogged(err) {
			fmt.Fprintln(os.Stderr, "podid:", err)
		}
		os.Exit(1)
	}
}

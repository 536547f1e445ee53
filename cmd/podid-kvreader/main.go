// Command podid-kvreader is the process of podid's kvreader image, a
// stand-in for the cmendibl3/az-keyvault-reader sidecar: it serves
// GET /secrets/NAME on 127.0.0.1:8333 from the Key Vault named by
// AZURE_KEYVAULT_NAME, with the pod's identity. See internal/kvreader.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/podid/podid/internal/kvreader"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := kvreader.NewOptions(os.Getenv)
	fs := pflag.NewFlagSet("podid-kvreader", pflag.ExitOnError)
	o.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	if err := o.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "podid-kvreader:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := kvreader.Run(ctx, o, log); err != nil {
		log.Error("kvreader stopped", "error", err)
		os.Exit(1)
	}
}

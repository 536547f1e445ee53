// Command nmi is podid's node agent: it answers the IMDS token endpoint for
// the pods of its node. See internal/agent.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/kubeclient"
)

func main() {
	opts := agent.NewOptions()
	fs := pflag.NewFlagSet("nmi", pflag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "Path of a kubeconfig file; empty uses the in-cluster configuration or $KUBECONFIG.")
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == pflag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "nmi:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := kubeclient.Config(*kubeconfig)
	if err != nil {
		log.Error("nmi cannot start", "err", err)
		os.Exit(1)
	}
	if err := agent.Run(ctx, cfg, opts, log); err != nil {
		log.Error("nmi stopped", "err", err)
		os.Exit(1)
	}
}

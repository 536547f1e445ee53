// Command mic is podid's controller. See internal/controller.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/podid/podid/internal/controller"
)

func main() {
	opts := controller.NewOptions()
	fs := pflag.NewFlagSet("mic", pflag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == pflag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "mic:", err)
		os.Exit(2)
	}
	ctrl.SetLogger(klog.NewKlogr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := controller.Run(ctx, opts); err != nil {
		klog.ErrorS(err, "mic stopped")
		os.Exit(1)
	}
}

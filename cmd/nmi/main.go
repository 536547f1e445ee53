// Command nmi is podid's node agent: it answers the IMDS token endpoint for
// the pods of its node. Its server is being built; today it validates and
// prints its configuration.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
)

func main() {
	fs := pflag.NewFlagSet("nmi", pflag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "Path of a kubeconfig file; empty uses the in-cluster configuration or $KUBECONFIG.")
	node := fs.String("node-name", os.Getenv("NODE_NAME"), "Name of the node this agent serves (default $NODE_NAME).")
	listen := fs.String("listen-address", "127.0.0.1:2579", "Address the IMDS-compatible token server listens on.")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == pflag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "nmi:", err)
		os.Exit(2)
	}
	fmt.Printf("nmi: kubeconfig=%q node-name=%q listen-address=%q\n", *kubeconfig, *node, *listen)
}

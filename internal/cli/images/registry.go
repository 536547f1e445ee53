package images

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/image"
)

// registryStopTimeout bounds the wait for pulls in flight at Ctrl-C.
const registryStopTimeout = 5 * time.Second

// newRegistryCommand serves the loopback registry by hand, to push to and
// pull from with ctr while debugging a node's registry mirror.
func newRegistryCommand(ctx context.Context) *cobra.Command {
	listen := "127.0.0.1:5000"
	cmd := &cobra.Command{
		Use:   "serve-registry",
		Short: "Serve an in-memory registry until interrupted, to push images to by hand",
		Long: "Serve the in-memory, unauthenticated registry that podid's nodes pull from, " +
			"e.g. for `podid images push --registry 127.0.0.1:5000 --insecure` and " +
			"`ctr images pull --plain-http 127.0.0.1:5000/pause:latest`. Its images are lost when it stops.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", listen, err)
			}
			stop := image.ServeRegistry(l)
			if _, err := fmt.Fprintf(cmd.OutOrStdout(), "serving a registry on %s\n", l.Addr()); err != nil {
				return err
			}
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), registryStopTimeout)
			defer cancel()
			return stop(sctx)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", listen, "HOST:PORT to serve on; keep it on loopback, the registry has no authentication.")
	return cmd
}

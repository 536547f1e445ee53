package image

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// ServeRegistry serves an in-memory OCI registry on l until stop is
// called. It has no authentication and no TLS, so l should be a loopback
// listener; a node's containerd reaches it through a registry mirror
// (config_path hosts.toml with server = "http://ADDR"). Images pushed to
// it are lost when it stops.
//
// stop shuts the server down gracefully within ctx and returns the error
// that ended serving, if any other than the shutdown.
func ServeRegistry(l net.Listener) (stop func(ctx context.Context) error) {
	srv := &http.Server{
		// The registry logs every request; a pull is dozens of them.
		Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	return func(ctx context.Context) error {
		shutdownErr := srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return errors.Join(err, shutdownErr)
		}
		return shutdownErr
	}
}

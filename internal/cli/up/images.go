package up

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/clusterdns"
	"github.com/podid/podid/internal/image"
)

// serveImages builds the real nodes' images, with the embedded cloud's CA
// in their trust store, and serves them from a loopback registry;
// registryURL is where each node's containerd pulls them.
func (r *runner) serveImages(ctx context.Context) error {
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find the podid source: %w", err)
	}
	root, err := image.FindModuleRoot(wd)
	if err != nil {
		return fmt.Errorf("real nodes run images built from podid's source: %w", err)
	}
	ca, err := os.ReadFile(r.rt.CloudCA)
	if err != nil {
		return fmt.Errorf("read the cloud's CA: %w", err)
	}
	names := make([]string, 0, len(r.p.Images))
	for _, im := range r.p.Images {
		names = append(names, im.Name)
	}
	r.log.Info("building images", "images", names)
	served, err := image.ServeCatalog(ctx, image.ServeOptions{
		ModuleRoot: root, Names: names, TrustedCA: ca,
		Progress: func(name string, digest v1.Hash, took time.Duration) {
			r.log.Info("image ready", "image", name, "digest", digest.String(), "seconds", fmt.Sprintf("%.1f", took.Seconds()))
		},
	})
	if err != nil {
		return err
	}
	r.images = served
	return nil
}

func (r *runner) stopRegistry() {
	if r.images != nil {
		r.images.Stop()
		r.images = nil
	}
}

// serveAzureNames answers Azure's host names for pods of real nodes: a
// DNS on the first real node's address that points them there, where the
// embedded cloud serves them on port 443 with a certificate of its CA.
func (r *runner) serveAzureNames(ctx context.Context) error {
	ip := r.p.RealNodes[0].InternalIP
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "443"))
	if err != nil {
		return fmt.Errorf("listen for Azure's host names: %w", err)
	}
	if err := r.cloud.ServeAzureNames(ln); err != nil {
		_ = ln.Close()
		return err
	}
	names := map[string]netip.Addr{}
	for _, n := range cloud.AzureNames() {
		names[n] = ip
	}
	dns, err := clusterdns.Start(ctx, clusterdns.Options{Addr: net.JoinHostPort(ip.String(), "53"), Names: names, Logger: r.log})
	if err != nil {
		return err
	}
	r.names = func() { _ = dns.Close() }
	r.log.Info("serving Azure's host names", "dns", dns.Addr(), "names", cloud.AzureNames())
	return nil
}
func (r *runner) stopAzureNames() {
	if r.names != nil {
		r.names()
		r.names = nil
	}
}

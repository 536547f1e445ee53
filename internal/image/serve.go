package image

import (
	"context"
	"fmt"
	"net"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ServeOptions configure ServeCatalog.
type ServeOptions struct {
	// ModuleRoot is podid's source (FindModuleRoot).
	ModuleRoot string
	// Names are catalog images to build.
	Names []string
	// TrustedCA, when set, is added to the trust store of the images that
	// carry one (WithTrustedCA).
	TrustedCA []byte
	// Progress, when set, hears of each image once pushed.
	Progress func(name string, digest v1.Hash, took time.Duration)
}

// DockerHub is the registry host that short image names (busybox) mean.
const DockerHub = "docker.io"

// SandboxImage is the reference of the pause image every pod sandbox runs.
func SandboxImage() string { return Ref(DefaultRegistry, NamePause, DefaultTag) }

// Served is a loopback registry holding built images.
type Served struct {
	// Addr is the registry's HOST:PORT on 127.0.0.1; containerd reaches it
	// as http://Addr through a registry mirror.
	Addr string
	stop func(context.Context) error
}

// Hosts are the registry hosts whose image names the registry answers
// for: podid's own and Docker Hub's, the aliases' (a node mirrors both to
// it, so manifests written for Docker Hub pull the local images).
func (s *Served) Hosts() []string { return []string{DefaultRegistry, DockerHub} }

// Stop shuts the registry down; its images are gone with it.
func (s *Served) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.stop(ctx)
}

// ServeCatalog builds the named catalog images for this machine's
// architecture and serves them from a new loopback registry, under their
// names and aliases (podid.local/pause:latest is <Addr>/pause:latest,
// docker.io/library/busybox:latest is <Addr>/library/busybox:latest).
func ServeCatalog(ctx context.Context, o ServeOptions) (_ *Served, retErr error) {
	specs, err := Lookup(o.Names...)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the image registry: %w", err)
	}
	s := &Served{Addr: ln.Addr().String(), stop: ServeRegistry(ln)}
	defer func() {
		if retErr != nil {
			s.Stop()
		}
	}()
	for _, spec := range specs {
		start := time.Now()
		built, err := Build(ctx, Options{ModuleRoot: o.ModuleRoot, Platforms: []v1.Platform{HostPlatform()}}, spec)
		if err != nil {
			return nil, err
		}
		if len(o.TrustedCA) > 0 {
			if built, err = WithTrustedCA(built, o.TrustedCA); err != nil {
				return nil, err
			}
		}
		if err := Push(ctx, PushOptions{Registry: s.Addr, Insecure: true}, built); err != nil {
			return nil, err
		}
		if o.Progress != nil {
			digest, _ := built.Digest()
			o.Progress(spec.Name, digest, time.Since(start))
		}
	}
	return s, nil
}

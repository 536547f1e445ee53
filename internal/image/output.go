package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Defaults of image references.
const (
	// DefaultRegistry is the registry host of podid's images. It resolves
	// nowhere: a node's containerd reaches it through a registry mirror
	// pointed at ServeRegistry, or finds the images already imported.
	DefaultRegistry = "podid.local"
	// DefaultTag is their tag; "latest" makes kubelet default to
	// imagePullPolicy: Always, which the mirror answers locally.
	DefaultTag = "latest"
)

// annotationRefName names an image in an OCI layout's index.json.
const annotationRefName = "org.opencontainers.image.ref.name"

// Ref is the reference of image name under registry, e.g.
// podid.local/pause:latest.
func Ref(registry, name, tag string) string {
	return registry + "/" + name + ":" + tag
}

// Refs are the references of b under registry: its own and its aliases.
func (b *Built) Refs(registry string) []string {
	refs := []string{Ref(registry, b.Spec.Name, DefaultTag)}
	for _, a := range b.Spec.Aliases {
		refs = append(refs, registry+"/"+a)
	}
	return refs
}

// WriteLayout writes b's index as an OCI image layout in dir, replacing
// what dir held. index.json names the index by its reference under
// DefaultRegistry, as tools that import layouts by name expect.
func WriteLayout(dir string, b *Built) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("write layout of %s: %w", b.Spec.Name, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write layout of %s: %w", b.Spec.Name, err)
	}
	err = p.AppendIndex(b.Index, layout.WithAnnotations(map[string]string{
		annotationRefName: Ref(DefaultRegistry, b.Spec.Name, DefaultTag),
	}))
	if err != nil {
		return fmt.Errorf("write layout of %s: %w", b.Spec.Name, err)
	}
	return nil
}

// WriteTarball writes b's image for platform p as a docker-archive
// tarball at file, tagged DefaultRegistry/NAME:latest and with the Docker
// Hub names of its aliases (docker.io/library/busybox:latest), so that
// manifests written for Docker Hub find it once imported. A docker archive
// holds images, not indexes, so it is one per platform;
// `ctr -n k8s.io images import FILE` loads it. containerd then stores a
// Docker schema 2 manifest rebuilt from the archive: its digest differs
// from the OCI one, while the config digest (the image ID) is the same.
func WriteTarball(file string, b *Built, p v1.Platform) error {
	img, ok := b.ImageFor(p)
	if !ok {
		return fmt.Errorf("write tarball of %s: it was not built for %s", b.Spec.Name, p)
	}
	refs := map[name.Reference]v1.Image{}
	tags := append([]string{Ref(DefaultRegistry, b.Spec.Name, DefaultTag)}, dockerHubAliases(b.Spec)...)
	for _, r := range tags {
		tag, err := name.NewTag(r)
		if err != nil {
			return fmt.Errorf("write tarball of %s: parse %q: %w", b.Spec.Name, r, err)
		}
		refs[tag] = img
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("write tarball of %s: %w", b.Spec.Name, err)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("write tarball of %s: %w", b.Spec.Name, err)
	}
	if err := tarball.MultiRefWrite(refs, f); err != nil {
		f.Close()
		return fmt.Errorf("write tarball of %s: %w", b.Spec.Name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write tarball of %s: %w", b.Spec.Name, err)
	}
	return nil
}

// dockerHubAliases are the aliases under docker.io, the names that
// manifests written for Docker Hub (image: busybox) resolve to.
func dockerHubAliases(s Spec) []string {
	out := make([]string, len(s.Aliases))
	for i, a := range s.Aliases {
		out[i] = DockerHub + "/" + a
	}
	return out
}

// PushOptions say where and how Push sends images.
type PushOptions struct {
	// Registry is HOST[:PORT].
	Registry string
	// Insecure speaks plain HTTP, as to ServeRegistry on loopback.
	Insecure bool
}

// Push writes b's index to the registry under every reference of b.Refs.
// Credentials come from the Docker config (docker login), as for any
// registry client; the loopback registry asks for none.
func Push(ctx context.Context, o PushOptions, b *Built) error {
	var nameOpts []name.Option
	if o.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	for _, r := range b.Refs(o.Registry) {
		ref, err := name.ParseReference(r, nameOpts...)
		if err != nil {
			return fmt.Errorf("push %s: parse %q: %w", b.Spec.Name, r, err)
		}
		err = remote.WriteIndex(ref, b.Index, remote.WithContext(ctx),
			remote.WithAuthFromKeychain(authn.DefaultKeychain))
		if err != nil {
			return fmt.Errorf("push %s to %s: %w", b.Spec.Name, r, err)
		}
	}
	return nil
}

package image

import (
	"bytes"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// WithTrustedCA returns b with one more layer whose CA bundle (Debian's,
// which images that speak TLS carry at caBundle.Path) also holds caPEM. An
// application that trusts the system roots, as every Azure SDK does, then
// trusts that CA too, with no change to the manifests that run it: this is
// how pods on podid's real nodes trust the embedded cloud. Images without
// the bundle are returned as they are.
func WithTrustedCA(b *Built, caPEM []byte) (*Built, error) {
	carries := false
	for _, f := range b.Spec.Files {
		carries = carries || f.Path == caBundle.Path
	}
	if !carries {
		return b, nil
	}
	system, err := os.ReadFile(caBundle.Host)
	if err != nil {
		return nil, fmt.Errorf("add a CA to image %s: read %s (%s): %w", b.Spec.Name, caBundle.Host, caBundle.Hint, err)
	}
	bundle := append(bytes.TrimRight(system, "\n"), '\n')
	bundle = append(bundle, caPEM...)
	t := tree{}
	t.addFile(caBundle.Path, 0o644, bundle)
	layer, err := t.layer()
	if err != nil {
		return nil, fmt.Errorf("add a CA to image %s: %w", b.Spec.Name, err)
	}
	out := &Built{Spec: b.Spec}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, pi := range b.Images {
		img, err := mutate.AppendLayers(pi.Image, layer)
		if err != nil {
			return nil, fmt.Errorf("add a CA to image %s for %s: %w", b.Spec.Name, pi.Platform, err)
		}
		p := pi.Platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
		out.Images = append(out.Images, PlatformImage{Platform: p, Image: img})
	}
	out.Index = idx
	if _, err := idx.Digest(); err != nil {
		return nil, fmt.Errorf("add a CA to image %s: digest index: %w", b.Spec.Name, err)
	}
	return out, nil
}

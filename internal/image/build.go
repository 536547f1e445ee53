package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options are what Build needs besides a Spec.
type Options struct {
	// ModuleRoot is the folder of podid's go.mod (see FindModuleRoot);
	// Spec.Package is relative to it.
	ModuleRoot string
	// Platforms to build for; empty means DefaultPlatforms. A caller that
	// only runs images here passes []v1.Platform{HostPlatform()} and
	// halves the compile time.
	Platforms []v1.Platform
	// Go is the go command; empty means "go" from PATH.
	Go string
	// DebianCache is where Spec.Debian packages are downloaded and
	// unpacked; empty means DefaultDebianCache.
	DebianCache string
}

// Built is a built image: an index with one image per platform.
type Built struct {
	Spec  Spec
	Index v1.ImageIndex
	// Images are the per-platform images, in the order of the index.
	Images []PlatformImage
}

// PlatformImage is one platform's image of a Built.
type PlatformImage struct {
	Platform v1.Platform
	Image    v1.Image
}

// Digest is the digest of the index, the one a pull by tag resolves.
func (b *Built) Digest() (v1.Hash, error) { return b.Index.Digest() }

// ImageFor returns the image of platform p, if it was built.
func (b *Built) ImageFor(p v1.Platform) (v1.Image, bool) {
	for _, pi := range b.Images {
		if pi.Platform.OS == p.OS && pi.Platform.Architecture == p.Architecture && pi.Platform.Variant == p.Variant {
			return pi.Image, true
		}
	}
	return nil, false
}

// Build compiles spec's package for every platform and returns the index.
func Build(ctx context.Context, o Options, spec Spec) (*Built, error) {
	want := o.Platforms
	if len(want) == 0 {
		want = DefaultPlatforms()
	}
	platforms := spec.platformsFor(want)
	if len(platforms) == 0 {
		return nil, fmt.Errorf("build image %s: it is built for %s only, not %s",
			spec.Name, platformList(spec.Platforms), platformList(want))
	}
	if spec.Package != "" && o.ModuleRoot == "" {
		return nil, fmt.Errorf("build image %s: no module root to build %s in", spec.Name, spec.Package)
	}
	tmp, err := os.MkdirTemp("", "podid-image-")
	if err != nil {
		return nil, fmt.Errorf("build image %s: %w", spec.Name, err)
	}
	defer os.RemoveAll(tmp)

	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	built := &Built{Spec: spec}
	for _, p := range platforms {
		img, err := buildImage(ctx, o, spec, p, tmp)
		if err != nil {
			return nil, fmt.Errorf("build image %s for %s: %w", spec.Name, p, err)
		}
		p := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
		built.Images = append(built.Images, PlatformImage{Platform: p, Image: img})
	}
	built.Index = idx
	// Computing the digest now surfaces a bad layer or config here rather
	// than halfway through a push.
	if _, err := idx.Digest(); err != nil {
		return nil, fmt.Errorf("build image %s: digest index: %w", spec.Name, err)
	}
	return built, nil
}

// buildImage makes the image of spec for platform p, using tmp for the
// compiled binary.
func buildImage(ctx context.Context, o Options, spec Spec, p v1.Platform, tmp string) (v1.Image, error) {
	t := tree{}
	if len(spec.Debian.Packages) > 0 {
		root, err := DebianRoot(ctx, o.DebianCache, p.Architecture, spec.Debian.Packages)
		if err != nil {
			return nil, err
		}
		if err := addDebianFiles(t, root, p.Architecture, spec.Debian.Paths); err != nil {
			return nil, fmt.Errorf("take files from Debian packages %s: %w", strings.Join(spec.Debian.Packages, ", "), err)
		}
	}
	for _, f := range spec.Files {
		data, mode, err := readFile(f, p.Architecture)
		if err != nil {
			return nil, err
		}
		t.addFile(path.Clean(f.Path), mode, data)
	}
	if spec.Package != "" {
		bin := filepath.Join(tmp, spec.Name+"-"+p.OS+"-"+p.Architecture)
		if err := compile(ctx, o, spec.Package, p, bin); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, fmt.Errorf("read compiled %s: %w", spec.Package, err)
		}
		t.addFile(path.Clean(spec.binaryPath()), 0o755, data)
	}
	for _, l := range spec.Symlinks {
		t.addSymlink(path.Clean(l.Path), l.Target)
	}
	for _, d := range spec.Dirs {
		if !path.IsAbs(d) {
			return nil, fmt.Errorf("folder %q is not absolute", d)
		}
		t.addDir(path.Clean(d))
	}
	layer, err := t.layer()
	if err != nil {
		return nil, err
	}

	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{CreatedBy: "podid images build " + spec.Name, Comment: spec.Package},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cf = cf.DeepCopy()
	// Created stays zero: a timestamp would make every build a new digest.
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Config.Entrypoint = spec.entrypoint()
	cf.Config.Cmd = spec.Cmd
	cf.Config.User = spec.User
	cf.Config.Env = spec.Env
	cf.Config.WorkingDir = "/"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// compile builds pkg for p into out: static, stripped and without paths
// or VCS stamps of this machine, so the binary depends on sources only.
func compile(ctx context.Context, o Options, pkg string, p v1.Platform, out string) error {
	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = o.ModuleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	if p.Architecture == "arm" && p.Variant != "" {
		cmd.Env = append(cmd.Env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return nil
}

// readFile reads a spec's host file, checking it runs on arch if it must.
func readFile(f File, arch string) ([]byte, int64, error) {
	hint := func(err error) error {
		if f.Hint == "" {
			return err
		}
		return fmt.Errorf("%w; %s", err, f.Hint)
	}
	if !path.IsAbs(f.Path) {
		return nil, 0, fmt.Errorf("file %s: image path %q is not absolute", f.Host, f.Path)
	}
	if f.Static {
		if err := checkStatic(f.Host, arch); err != nil {
			return nil, 0, hint(err)
		}
	}
	data, err := os.ReadFile(f.Host)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, hint(fmt.Errorf("%s is missing", f.Host))
		}
		return nil, 0, fmt.Errorf("read %s: %w", f.Host, err)
	}
	mode := f.Mode
	switch {
	case mode != 0:
	case f.Static:
		mode = 0o755
	default:
		mode = 0o644
	}
	return data, mode, nil
}

func platformList(ps []v1.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

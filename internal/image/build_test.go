package image

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// hostOnly builds for this machine alone: one compile per build.
func hostOnly(t *testing.T) Options {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles Go packages")
	}
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return Options{ModuleRoot: root, Platforms: []v1.Platform{HostPlatform()}}
}

func pauseSpec(t *testing.T) Spec {
	t.Helper()
	specs, err := Lookup(NamePause)
	if err != nil {
		t.Fatal(err)
	}
	return specs[0]
}

func digestOf(t *testing.T, b *Built) string {
	t.Helper()
	d, err := b.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestBuildIsReproducible(t *testing.T) {
	o := hostOnly(t)
	ctx := context.Background()
	spec := pauseSpec(t)
	first, err := Build(ctx, o, spec)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Build(ctx, o, spec)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := digestOf(t, first), digestOf(t, second); a != b {
		t.Fatalf("two builds of the same inputs differ: %s and %s", a, b)
	}
	t.Logf("pause %s: %s", HostPlatform(), digestOf(t, first))

	changed := spec
	changed.Env = []string{"CHANGED=1"}
	third, err := Build(ctx, o, changed)
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, third) == digestOf(t, first) {
		t.Fatal("a changed env gave the same digest")
	}
}

func TestBuildConfig(t *testing.T) {
	o := hostOnly(t)
	b, err := Build(context.Background(), o, pauseSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	img, ok := b.ImageFor(HostPlatform())
	if !ok || len(b.Images) != 1 {
		t.Fatalf("built %d images, want the host's alone", len(b.Images))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.IsZero() {
		t.Errorf("created %s, want zero", cf.Created)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/pause" {
		t.Errorf("entrypoint %q, want /pause", got)
	}
	if cf.Config.User != "65532:65532" || cf.Architecture != HostPlatform().Architecture || cf.OS != "linux" {
		t.Errorf("config %+v", cf)
	}
	im, err := b.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Platform == nil || im.Manifests[0].Platform.Architecture != HostPlatform().Architecture {
		t.Errorf("index manifests %+v lack the platform", im.Manifests)
	}
}

func TestBuildStaticFileErrors(t *testing.T) {
	o := Options{Platforms: []v1.Platform{HostPlatform()}}
	text := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hint := "apt-get install busybox-static"
	cases := map[string]string{
		"a missing binary names the package to install": filepath.Join(t.TempDir(), "missing"),
		"a file that is no ELF binary does too":         text,
	}
	for name, host := range cases {
		t.Run(name, func(t *testing.T) {
			spec := Spec{Name: "busybox", Files: []File{{Host: host, Path: "/bin/busybox", Static: true, Hint: hint}}}
			_, err := Build(context.Background(), o, spec)
			if err == nil || !strings.Contains(err.Error(), hint) {
				t.Fatalf("error %v, want one containing %q", err, hint)
			}
		})
	}
}

func TestBuildRefusesPlatformsTheSpecLacks(t *testing.T) {
	other := LinuxARM64
	if HostPlatform().Architecture == "arm64" {
		other = LinuxAMD64
	}
	spec := Spec{Name: "busybox", Platforms: []v1.Platform{HostPlatform()}}
	_, err := Build(context.Background(), Options{Platforms: []v1.Platform{other}}, spec)
	if err == nil || !strings.Contains(err.Error(), "built for") {
		t.Fatalf("error %v, want one saying which platforms it is built for", err)
	}
}

func TestBusyboxImage(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("/bin/busybox is missing; apt-get install busybox-static")
	}
	specs, err := Lookup(NameBusybox)
	if err != nil {
		t.Fatal(err)
	}
	// Both platforms are asked for; busybox is host-only and builds anyway.
	b, err := Build(context.Background(), Options{}, specs[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Images) != 1 {
		t.Fatalf("built %d busybox images, want the host's alone", len(b.Images))
	}
}

func TestPushToLoopbackRegistryAndPullBack(t *testing.T) {
	o := hostOnly(t)
	ctx := context.Background()
	b, err := Build(ctx, o, pauseSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := ServeRegistry(l)
	t.Cleanup(func() {
		if err := stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	reg := l.Addr().String()
	if err := Push(ctx, PushOptions{Registry: reg, Insecure: true}, b); err != nil {
		t.Fatal(err)
	}

	ref, err := name.ParseReference(Ref(reg, NamePause, DefaultTag), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(ref, remote.WithContext(ctx), remote.WithPlatform(HostPlatform()))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := b.ImageFor(HostPlatform())
	wd, _ := want.Digest()
	pd, err := pulled.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if pd != wd {
		t.Fatalf("pulled %s, pushed %s", pd, wd)
	}
	idx, err := remote.Index(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := idx.Digest(); id.String() != digestOf(t, b) {
		t.Fatalf("pulled index %s, pushed %s", id, digestOf(t, b))
	}
}

func TestWriteLayoutAndTarball(t *testing.T) {
	o := hostOnly(t)
	b, err := Build(context.Background(), o, pauseSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lay := filepath.Join(dir, "pause", "oci")
	if err := WriteLayout(lay, b); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(lay)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != digestOf(t, b) ||
		im.Manifests[0].Annotations[annotationRefName] != "podid.local/pause:latest" {
		t.Fatalf("layout index %+v does not name the built index", im.Manifests)
	}

	tb := filepath.Join(dir, "pause", "linux-"+HostPlatform().Architecture+".tar")
	if err := WriteTarball(tb, b, HostPlatform()); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("podid.local/pause:latest")
	img, err := tarball.ImageFromPath(tb, &tag)
	if err != nil {
		t.Fatal(err)
	}
	// A docker archive keeps the config byte for byte but not the OCI
	// manifest, so the config digest (the image ID) is what must match.
	want, _ := b.ImageFor(HostPlatform())
	wc, _ := want.ConfigName()
	if c, _ := img.ConfigName(); c != wc {
		t.Fatalf("tarball holds image ID %s, built %s", c, wc)
	}
}

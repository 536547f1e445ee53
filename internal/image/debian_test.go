package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// needDebianTools skips a test without apt-get and dpkg-deb, except under
// CI, where .ci/run provides them (testenv.Missing, which this package
// cannot import: testenv imports it).
func needDebianTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("downloads Debian packages on a cold cache")
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: Debian packages cannot be fetched", tool)
			}
			t.Skipf("%s is missing: Debian packages cannot be fetched", tool)
		}
	}
}

// layerFiles reads the single layer of img into path -> header and data.
func layerFiles(t *testing.T, img v1.Image) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("image has %d layers (%v), want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	heads, data := map[string]*tar.Header{}, map[string][]byte{}
	r := tar.NewReader(rc)
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := "/" + strings.TrimSuffix(h.Name, "/")
		heads[p] = h
		if h.Typeflag == tar.TypeReg {
			if data[p], err = io.ReadAll(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	return heads, data
}

// resolve follows symlinks in the layer from p to a regular file.
func resolve(t *testing.T, heads map[string]*tar.Header, p string) string {
	t.Helper()
	for range 10 {
		h, ok := heads[p]
		if !ok {
			t.Fatalf("%s is missing from the layer", p)
		}
		if h.Typeflag == tar.TypeReg {
			return p
		}
		if h.Typeflag != tar.TypeSymlink {
			t.Fatalf("%s is neither file nor symlink", p)
		}
		p = linkTarget(p, h.Linkname)
	}
	t.Fatalf("%s: too many symlinks", p)
	return ""
}

func TestPodidImageRunsIptablesOfEachPlatform(t *testing.T) {
	needDebianTools(t)
	specs, err := Lookup(NamePodid)
	if err != nil {
		t.Fatal(err)
	}
	// The podid binary is left out: other tests cover compiling, and two
	// cross-compiles of podid take minutes on a small machine.
	spec := specs[0]
	spec.Package = ""
	start := time.Now()
	b, err := Build(context.Background(), Options{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built podid's files for %d platforms in %s", len(b.Images), time.Since(start).Round(time.Millisecond))
	cases := map[string]struct {
		platform v1.Platform
		machine  elf.Machine
		interp   string
	}{
		"amd64 carries x86-64 iptables and its loader":  {LinuxAMD64, elf.EM_X86_64, "/lib64/ld-linux-x86-64.so.2"},
		"arm64 carries aarch64 iptables and its loader": {LinuxARM64, elf.EM_AARCH64, "/lib/ld-linux-aarch64.so.1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			img, ok := b.ImageFor(c.platform)
			if !ok {
				t.Fatalf("no image for %s", c.platform)
			}
			heads, data := layerFiles(t, img)
			for _, bin := range []string{"/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-legacy-multi"} {
				f, err := elf.NewFile(bytes.NewReader(data[resolve(t, heads, bin)]))
				if err != nil {
					t.Fatalf("%s: %v", bin, err)
				}
				if f.Machine != c.machine {
					t.Errorf("%s is %s, want %s", bin, f.Machine, c.machine)
				}
				if heads[bin].Mode&0o111 == 0 {
					t.Errorf("%s is not executable: mode %o", bin, heads[bin].Mode)
				}
			}
			resolve(t, heads, c.interp)
			for link, target := range map[string]string{
				"/usr/sbin/iptables-nft":         "xtables-nft-multi",
				"/usr/sbin/iptables-nft-save":    "xtables-nft-multi",
				"/usr/sbin/iptables-legacy":      "xtables-legacy-multi",
				"/usr/sbin/iptables-legacy-save": "xtables-legacy-multi",
			} {
				if h := heads[link]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
					t.Errorf("%s is %+v, want a symlink to %s", link, h, target)
				}
			}
			triplet := multiarchTriplets[c.platform.Architecture]
			// The agent's rules jump to DNAT and match with the
			// extensions loaded from here.
			resolve(t, heads, "/usr/lib/"+triplet+"/xtables/libxt_DNAT.so")
			resolve(t, heads, "/lib/"+triplet+"/libc.so.6")
			resolve(t, heads, "/etc/protocols")
			// iptables-legacy refuses to run without /run for its lock.
			if h := heads["/run"]; h == nil || h.Typeflag != tar.TypeDir {
				t.Errorf("/run is %+v, want a folder", h)
			}
			for p := range heads {
				if strings.HasPrefix(p, "/usr/share/") || strings.Contains(p, "gconv") {
					t.Errorf("%s should not be in the image", p)
				}
			}
			if m, err := img.Manifest(); err == nil {
				t.Logf("podid %s: layer %.1f MiB compressed", c.platform, float64(m.Layers[0].Size)/(1<<20))
			}
		})
	}
}

func TestDebianFilesBuildReproducibly(t *testing.T) {
	needDebianTools(t)
	spec := Spec{Name: "iptables", Debian: iptables}
	ctx := context.Background()
	first, err := Build(ctx, Options{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Build(ctx, Options{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := digestOf(t, first), digestOf(t, second); a != b {
		t.Fatalf("two builds from the same packages differ: %s and %s", a, b)
	}
	amd, _ := first.ImageFor(LinuxAMD64)
	arm, _ := first.ImageFor(LinuxARM64)
	da, _ := amd.Digest()
	dr, _ := arm.Digest()
	if da == dr {
		t.Fatal("the amd64 and arm64 images are the same: the packages were not taken per platform")
	}
}

func TestDebianFilesKeepSymlinksInsideTheRoot(t *testing.T) {
	root := t.TempDir()
	write := func(p, data string) {
		h := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(h, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(p, target string) {
		if err := os.MkdirAll(filepath.Join(root, path.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	write("/usr/sbin/tool-multi", "#!")
	link("/usr/sbin/tool", "tool-multi")
	// An absolute target names a path of the image, never of this
	// machine (whose /etc/passwd must not leak in).
	link("/etc/passwd-link", "/etc/passwd")
	write("/etc/passwd", "root:x:0:0::/:/bin/sh\n")
	write("/usr/lib/x86_64-linux-gnu/mods/a.so", "a")
	write("/usr/share/doc/tool/README", "docs")

	tr := tree{}
	if err := addDebianFiles(tr, root, "amd64", []string{"/usr/sbin/tool", "/etc/passwd-link", "/usr/lib/*/mods"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/usr/sbin/tool":                      "-> tool-multi",
		"/usr/sbin/tool-multi":                "#!",
		"/etc/passwd-link":                    "-> /etc/passwd",
		"/etc/passwd":                         "root:x:0:0::/:/bin/sh\n",
		"/usr/lib/x86_64-linux-gnu/mods/a.so": "a",
	}
	if len(tr) != len(want) {
		t.Errorf("took %d entries, want %d: %v", len(tr), len(want), tr)
	}
	for p, w := range want {
		e, ok := tr[p]
		got := string(e.data)
		if e.typ == tar.TypeSymlink {
			got = "-> " + e.target
		}
		if !ok || got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
	}

	err := addDebianFiles(tree{}, root, "amd64", []string{"/usr/sbin/iptables"})
	if err == nil || !strings.Contains(err.Error(), "/usr/sbin/iptables") {
		t.Fatalf("error %v, want one naming the path no package ships", err)
	}
}

func TestDebianRootReusesTheCacheWithoutApt(t *testing.T) {
	needDebianTools(t)
	ctx := context.Background()
	first, err := DebianRoot(ctx, "", "arm64", iptables.Packages)
	if err != nil {
		t.Fatal(err)
	}
	// No apt-get, no dpkg-deb: a warm cache needs neither, nor network.
	t.Setenv("PATH", t.TempDir())
	second, err := DebianRoot(ctx, "", "arm64", iptables.Packages)
	if err != nil || second != first {
		t.Fatalf("second call = %q, %v; want %q from the cache", second, err, first)
	}
}

func TestDebianDownloadErrorSaysWhatToRun(t *testing.T) {
	needDebianTools(t)
	_, err := DebianRoot(context.Background(), t.TempDir(), "arm64", []string{"podid-no-such-package"})
	if err == nil || !strings.Contains(err.Error(), "apt-get update -o APT::Architectures=amd64,arm64") {
		t.Fatalf("error %v, want one saying to run apt-get update for arm64", err)
	}
}

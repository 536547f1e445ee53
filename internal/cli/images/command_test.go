package images

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podid/podid/internal/image"
)

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		opts    interface{ Validate() error }
		wantErr string
	}{
		"build needs --out": {
			opts: &BuildOptions{Options: newOptions()}, wantErr: "--out is required",
		},
		"build takes the default platforms": {
			opts: &BuildOptions{Options: newOptions(), Out: "x"},
		},
		"a platform other than linux is refused": {
			opts:    &BuildOptions{Options: Options{Platforms: []string{"windows/amd64"}}, Out: "x"},
			wantErr: "only linux images",
		},
		"push needs --registry": {
			opts: &PushOptions{Options: newOptions()}, wantErr: "--registry is required",
		},
		"a registry with a scheme points at --insecure": {
			opts:    &PushOptions{Options: newOptions(), Registry: "http://127.0.0.1:5000"},
			wantErr: "--insecure selects plain HTTP",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.opts.Validate()
			if c.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

func TestBuildWritesLayoutAndTarballAndPrintsDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Go packages")
	}
	out := t.TempDir()
	o := &BuildOptions{Options: Options{Source: ".", Platforms: []string{image.HostPlatform().String()}}, Out: out}
	var stdout bytes.Buffer
	if err := runBuild(context.Background(), o, []string{image.NamePause}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^pause sha256:[0-9a-f]{64}\n$`).MatchString(stdout.String()) {
		t.Fatalf("printed %q, want one NAME DIGEST line", stdout.String())
	}
	for _, f := range []string{"pause/oci/index.json", "pause/linux-" + image.HostPlatform().Architecture + ".tar"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
}

func TestBuildOutsideAClone(t *testing.T) {
	o := &BuildOptions{Options: Options{Source: t.TempDir(), Platforms: []string{"linux/amd64"}}, Out: t.TempDir()}
	err := runBuild(context.Background(), o, nil, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "run this from a clone of podid") {
		t.Fatalf("error %v, want one saying to run from a clone", err)
	}
}

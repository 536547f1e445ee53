package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindModuleRoot(t *testing.T) {
	write := func(dir, content string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	clone := filepath.Join(root, "clone")
	write(clone, "// podid\nmodule github.com/podid/podid // the module\n\ngo 1.26\n")
	write(filepath.Join(clone, "hack", "tools"), "module github.com/podid/podid/hack/tools\n")
	other := filepath.Join(root, "other")
	write(other, "module \"example.com/other\"\n")

	cases := map[string]struct {
		dir, want, wantErr string
	}{
		"the clone's root finds itself":                  {dir: clone, want: clone},
		"a nested module of another path is passed over": {dir: filepath.Join(clone, "hack", "tools"), want: clone},
		"another module says to use a clone":             {dir: other, wantErr: "run this from a clone of podid"},
		"no go.mod at all says so too":                   {dir: root, wantErr: "run this from a clone of podid"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := FindModuleRoot(c.dir)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %q, %v; want error %q", got, err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

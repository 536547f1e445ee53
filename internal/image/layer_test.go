package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTreeTarIsSortedWithParentsAndNoHostMetadata(t *testing.T) {
	tr := tree{}
	tr.addFile("/usr/bin/tool", 0o755, []byte("#!"))
	tr.addSymlink("/bin/sh", "busybox")
	tr.addFile("/bin/busybox", 0o755, []byte("elf"))
	b, err := tr.tar()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	r := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(epoch) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" {
			t.Fatalf("%s carries host metadata: %+v", h.Name, h)
		}
		got = append(got, h.Name)
	}
	want := []string{"bin/", "bin/busybox", "bin/sh", "usr/", "usr/bin/", "usr/bin/tool"}
	if len(got) != len(want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entries %q, want %q", got, want)
		}
	}
}

func TestLayerDigestIgnoresHostMtime(t *testing.T) {
	host := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(host, []byte("same bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	digest := func() string {
		data, mode, err := readFile(File{Host: host, Path: "/etc/f"}, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		l, err := tree{"/etc/f": {path: "/etc/f", typ: tar.TypeReg, mode: mode, data: data}}.layer()
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	first := digest()
	if err := os.Chtimes(host, time.Now(), time.Now().Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if second := digest(); second != first {
		t.Fatalf("touching the host file changed the layer: %s then %s", first, second)
	}
}

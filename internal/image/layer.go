package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every entry's mtime: the host's mtimes would change the
// digest on each checkout or rebuild.
var epoch = time.Unix(0, 0).UTC()

// entry is one object of a layer's file system.
type entry struct {
	// path is absolute and clean, e.g. /bin/sh.
	path string
	// typ is tar.TypeReg, tar.TypeDir or tar.TypeSymlink.
	typ  byte
	mode int64
	data []byte
	// target is a symlink's target.
	target string
}

// tree is the content of a layer, keyed by path so that a later entry
// replaces an earlier one.
type tree map[string]entry

func (t tree) addFile(p string, mode int64, data []byte) {
	t[p] = entry{path: p, typ: tar.TypeReg, mode: mode, data: data}
}

func (t tree) addSymlink(p, target string) {
	t[p] = entry{path: p, typ: tar.TypeSymlink, mode: 0o777, target: target}
}

func (t tree) addDir(p string) {
	t[p] = entry{path: p, typ: tar.TypeDir, mode: 0o755}
}

// withParents adds every missing parent directory, so that runtimes which
// unpack without creating parents see the same tree as those which do.
func (t tree) withParents() {
	for p := range t {
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			if _, ok := t[dir]; !ok {
				t[dir] = entry{path: dir, typ: tar.TypeDir, mode: 0o755}
			}
		}
	}
}

// tar writes the tree as an uncompressed tar: entries sorted by path,
// owned by 0:0 with mtime 0, so equal trees give equal bytes.
func (t tree) tar() ([]byte, error) {
	t.withParents()
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		e := t[p]
		h := &tar.Header{
			Typeflag: e.typ,
			Name:     p[1:],
			Linkname: e.target,
			Mode:     e.mode,
			Size:     int64(len(e.data)),
			ModTime:  epoch,
			Format:   tar.FormatPAX,
		}
		if e.typ == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("write tar header of %s: %w", p, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("write %s to tar: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	return buf.Bytes(), nil
}

// layer is the tree as a gzip-compressed OCI layer.
func (t tree) layer() (v1.Layer, error) {
	b, err := t.tar()
	if err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("make layer: %w", err)
	}
	return l, nil
}

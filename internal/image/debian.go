package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// DebianFiles are files an image takes from Debian packages of each
// platform's architecture, for programs that are not podid's own (such as
// iptables) and need their distribution's libraries.
type DebianFiles struct {
	// Packages are downloaded for the platform's architecture and unpacked,
	// not installed: no maintainer script runs and nothing on this machine
	// changes. List every package the Paths need; dependencies are not
	// followed.
	Packages []string
	// Paths are what the image takes from the unpacked packages: absolute
	// paths or glob patterns (/usr/lib/*/xtables, as the multiarch folder
	// differs per architecture). A folder is taken whole, a symlink as a
	// symlink together with what it points at. The shared libraries of
	// every ELF file taken (DT_NEEDED, recursively) and its program
	// interpreter come along without being listed.
	Paths []string
}

// aptArchitectures makes apt consider the foreign architecture's package
// lists without `dpkg --add-architecture`, which would change the host.
const aptArchitectures = "APT::Architectures=amd64,arm64"

// aptUpdateHint is what to run when apt-get knows no package of an
// architecture.
const aptUpdateHint = "run: apt-get update -o " + aptArchitectures

// DefaultDebianCache is where downloaded packages and their unpacked files
// are kept: $XDG_CACHE_HOME/podid/debs, else ~/.cache/podid/debs.
func DefaultDebianCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache folder for Debian packages: %w", err)
	}
	return filepath.Join(dir, "podid", "debs"), nil
}

// DebianRoot returns a folder holding the given packages of arch unpacked
// (dpkg-deb -x), downloading with apt-get those not already in
// cache/<arch>. Packages once downloaded are reused, so a later call needs
// no network; the unpacked folder is reused for the same set of .deb
// files. cache empty means DefaultDebianCache.
func DebianRoot(ctx context.Context, cache, arch string, packages []string) (string, error) {
	if cache == "" {
		var err error
		if cache, err = DefaultDebianCache(); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(cache, arch)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create Debian package cache: %w", err)
	}
	debs := make([]string, 0, len(packages))
	for _, pkg := range packages {
		deb, err := cachedDeb(ctx, dir, pkg, arch)
		if err != nil {
			return "", err
		}
		debs = append(debs, deb)
	}
	return unpack(ctx, dir, debs)
}

// cachedDeb is the .deb of pkg for arch in dir, downloaded first if dir
// has none.
func cachedDeb(ctx context.Context, dir, pkg, arch string) (string, error) {
	if deb, err := findDeb(dir, pkg, arch); err != nil || deb != "" {
		return deb, err
	}
	if err := download(ctx, dir, pkg, arch); err != nil {
		return "", err
	}
	deb, err := findDeb(dir, pkg, arch)
	if err == nil && deb == "" {
		err = fmt.Errorf("apt-get download %s:%s left no .deb in %s", pkg, arch, dir)
	}
	return deb, err
}

// findDeb looks for pkg's .deb of arch, or of "all" for architecture-free
// packages such as netbase. Two versions of one package are refused
// rather than guessed between.
func findDeb(dir, pkg, arch string) (string, error) {
	var found []string
	for _, a := range []string{arch, "all"} {
		m, err := filepath.Glob(filepath.Join(dir, pkg+"_*_"+a+".deb"))
		if err != nil {
			return "", fmt.Errorf("look for %s in %s: %w", pkg, dir, err)
		}
		found = append(found, m...)
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("the package cache %s holds %d versions of %s (%s); delete all but one",
		dir, len(found), pkg, strings.Join(found, ", "))
}

// download fetches pkg into dir through a scratch folder, so that an
// interrupted download never leaves a truncated .deb in the cache.
func download(ctx context.Context, dir, pkg, arch string) error {
	tmp, err := os.MkdirTemp(dir, ".download-")
	if err != nil {
		return fmt.Errorf("download %s:%s: %w", pkg, arch, err)
	}
	defer os.RemoveAll(tmp)
	// An architecture-free package (Architecture: all) has no candidate
	// as pkg:arch, only as pkg:all.
	var errs []error
	for _, a := range []string{arch, "all"} {
		err := run(ctx, tmp, "apt-get", "download", "-q", "-o", aptArchitectures, pkg+":"+a)
		if err == nil {
			errs = nil
			break
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("download Debian package %s for %s (if apt-get knows no %s packages, %s): %w",
			pkg, arch, arch, aptUpdateHint, errors.Join(errs...))
	}
	got, err := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if err != nil {
		return fmt.Errorf("download %s:%s: %w", pkg, arch, err)
	}
	for _, deb := range got {
		if err := os.Rename(deb, filepath.Join(dir, filepath.Base(deb))); err != nil {
			return fmt.Errorf("keep %s in the package cache: %w", filepath.Base(deb), err)
		}
	}
	return nil
}

// unpack extracts debs into a folder of dir named after the .deb files, so
// that the same packages reuse it and new versions get a new one.
func unpack(ctx context.Context, dir string, debs []string) (string, error) {
	names := make([]string, len(debs))
	for i, d := range debs {
		names[i] = filepath.Base(d)
	}
	sort.Strings(names)
	sum := sha256.Sum256([]byte(strings.Join(names, "\n")))
	root := filepath.Join(dir, "root-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(root); err == nil {
		return root, nil
	}
	tmp, err := os.MkdirTemp(dir, ".unpack-")
	if err != nil {
		return "", fmt.Errorf("unpack Debian packages: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, d := range debs {
		if err := run(ctx, "", "dpkg-deb", "-x", d, tmp); err != nil {
			return "", fmt.Errorf("unpack %s: %w", filepath.Base(d), err)
		}
	}
	if err := os.Rename(tmp, root); err != nil {
		// Another build unpacked the same packages meanwhile.
		if _, serr := os.Stat(root); serr == nil {
			return root, nil
		}
		return "", fmt.Errorf("unpack Debian packages: %w", err)
	}
	return root, nil
}

// run runs a command in dir, returning its output in the error.
func run(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
		}
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

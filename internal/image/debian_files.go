package image

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// multiarchTriplets maps GOARCH to Debian's multiarch folder name.
var multiarchTriplets = map[string]string{
	"amd64": "x86_64-linux-gnu",
	"arm64": "aarch64-linux-gnu",
}

// libraryDirs are where Debian's dynamic loader finds libraries without an
// ld.so.cache (the image has none): the multiarch folders, then the
// plain ones.
func libraryDirs(arch string) []string {
	t := multiarchTriplets[arch]
	return []string{"/lib/" + t, "/usr/lib/" + t, "/lib", "/usr/lib"}
}

// debianCollector copies files from an unpacked root into a tree and
// follows what they need at run time.
type debianCollector struct {
	root string
	arch string
	t    tree
	// done are the image paths already taken.
	done map[string]bool
	// elves are ELF files taken whose libraries are yet to be resolved.
	elves []string
}

// addDebianFiles adds the files of paths found in root, the unpacked
// packages of arch, to t, with the shared libraries and program
// interpreters their ELF files need.
func addDebianFiles(t tree, root, arch string, paths []string) error {
	if _, ok := multiarchTriplets[arch]; !ok {
		return fmt.Errorf("no Debian architecture is known for %s", arch)
	}
	c := &debianCollector{root: root, arch: arch, t: t, done: map[string]bool{}}
	for _, pattern := range paths {
		if !path.IsAbs(pattern) {
			return fmt.Errorf("Debian path %q is not absolute", pattern)
		}
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil {
			return fmt.Errorf("Debian path %q: %w", pattern, err)
		}
		if len(matches) == 0 {
			return fmt.Errorf("no file of the Debian packages matches %s; is the package that ships it listed?", pattern)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if err := c.add(c.imagePath(m)); err != nil {
				return err
			}
		}
	}
	for len(c.elves) > 0 {
		p := c.elves[0]
		c.elves = c.elves[1:]
		if err := c.addNeeds(p); err != nil {
			return err
		}
	}
	return nil
}

// imagePath is the image path of a host path under root.
func (c *debianCollector) imagePath(host string) string {
	rel, _ := filepath.Rel(c.root, host)
	return path.Clean("/" + filepath.ToSlash(rel))
}

func (c *debianCollector) host(p string) string {
	return filepath.Join(c.root, filepath.FromSlash(p))
}

// add takes the object at image path p: a file, a folder with all it
// holds, or a symlink and its target. Symlinks in p's parent folders are
// resolved first, so that the image gets the link and the real folder
// as the packages made them.
func (c *debianCollector) add(p string) error {
	p, err := c.resolveParents(p)
	if err != nil {
		return err
	}
	if c.done[p] {
		return nil
	}
	c.done[p] = true
	fi, err := os.Lstat(c.host(p))
	if err != nil {
		return fmt.Errorf("take %s from the Debian packages: %w", p, err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(c.host(p))
		if err != nil {
			return fmt.Errorf("read symlink %s: %w", p, err)
		}
		c.t.addSymlink(p, target)
		return c.add(linkTarget(p, target))
	case fi.IsDir():
		entries, err := os.ReadDir(c.host(p))
		if err != nil {
			return fmt.Errorf("read folder %s: %w", p, err)
		}
		for _, e := range entries {
			if err := c.add(path.Join(p, e.Name())); err != nil {
				return err
			}
		}
		return nil
	case fi.Mode().IsRegular():
		data, err := os.ReadFile(c.host(p))
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		// Only the exec bit is kept: the unpacked modes depend on the
		// umask of whoever unpacked, the digest must not.
		mode := int64(0o644)
		if fi.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		c.t.addFile(p, mode, data)
		if isELF(data) {
			c.elves = append(c.elves, p)
		}
		return nil
	}
	return fmt.Errorf("%s in the Debian packages is neither file, folder nor symlink", p)
}

// resolveParents replaces symlinks among p's parent folders by their
// targets, adding each such link to the image.
func (c *debianCollector) resolveParents(p string) (string, error) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, part := range parts {
		cur = path.Join(cur, part)
		if i == len(parts)-1 {
			break
		}
		fi, err := os.Lstat(c.host(cur))
		if err != nil {
			return "", fmt.Errorf("take %s from the Debian packages: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := os.Readlink(c.host(cur))
		if err != nil {
			return "", fmt.Errorf("read symlink %s: %w", cur, err)
		}
		c.t.addSymlink(cur, target)
		rest := path.Join(parts[i+1:]...)
		return c.resolveParents(path.Join(linkTarget(cur, target), rest))
	}
	return p, nil
}

// linkTarget is the image path a symlink at p pointing at target names.
func linkTarget(p, target string) string {
	if path.IsAbs(target) {
		return path.Clean(target)
	}
	return path.Join(path.Dir(p), target)
}

func isELF(data []byte) bool { return len(data) > 4 && string(data[:4]) == elf.ELFMAG }

// addNeeds adds the program interpreter and the shared libraries of the
// ELF file at p, refusing one built for another architecture.
func (c *debianCollector) addNeeds(p string) error {
	f, err := elf.Open(c.host(p))
	if err != nil {
		return fmt.Errorf("read %s as ELF: %w", p, err)
	}
	defer f.Close()
	if want := elfMachines[c.arch]; f.Machine != want {
		return fmt.Errorf("%s is built for %s, not %s (%s): the package cache holds the wrong architecture", p, f.Machine, want, c.arch)
	}
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, prog.Filesz)
		if _, err := prog.ReadAt(b, 0); err != nil {
			return fmt.Errorf("read the interpreter of %s: %w", p, err)
		}
		if err := c.add(strings.TrimRight(string(b), "\x00")); err != nil {
			return fmt.Errorf("program interpreter of %s: %w", p, err)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read the libraries %s needs: %w", p, err)
	}
	for _, lib := range libs {
		found, err := c.findLibrary(lib)
		if err != nil {
			return fmt.Errorf("%s needs %s: %w", p, lib, err)
		}
		if err := c.add(found); err != nil {
			return err
		}
	}
	return nil
}

// findLibrary is the image path of the library the loader would load.
func (c *debianCollector) findLibrary(name string) (string, error) {
	dirs := libraryDirs(c.arch)
	for _, d := range dirs {
		p := path.Join(d, name)
		// Lstat: a library may be a symlink whose absolute target only
		// exists under root.
		if _, err := os.Lstat(c.host(p)); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("look for %s: %w", p, err)
		}
	}
	return "", fmt.Errorf("no Debian package listed ships it in %s; add the package that does", strings.Join(dirs, ", "))
}

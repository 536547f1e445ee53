package image

import (
	"fmt"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Spec says how to build one image.
type Spec struct {
	// Name is the image's short name, e.g. "pause"; the repository is
	// Name under a registry (see Ref).
	Name string
	// Package is the Go main package compiled into /Name (or Binary),
	// relative to the module root, e.g. "./cmd/podid-pause". Empty builds
	// an image of Files and Symlinks alone.
	Package string
	// Binary is the binary's path in the image; empty means "/" + Name.
	Binary string
	// Entrypoint is the image's ENTRYPOINT; empty means [Binary].
	Entrypoint []string
	// Cmd is the image's CMD, the default arguments to Entrypoint.
	Cmd []string
	// User is the image's USER, e.g. "65532:65532" for an unprivileged
	// process; empty runs as root.
	User string
	// Env are KEY=VALUE pairs in the image config.
	Env []string
	// Files are host files copied into the image.
	Files []File
	// Symlinks are created in the image after Files.
	Symlinks []Symlink
	// Dirs are empty folders the image has, such as /run, where programs
	// create their lock files (iptables-legacy's /run/xtables.lock) and
	// which no runtime creates for them.
	Dirs []string
	// Debian are files taken from Debian packages of each platform's
	// architecture, such as iptables with its libraries; they are added
	// before Files, so a File or Symlink replaces one of the same path.
	Debian DebianFiles
	// Aliases are other references, relative to a registry, the image is
	// also tagged and pushed as, e.g. "library/busybox:latest" so that a
	// docker.io mirror pointed at the loopback registry serves manifests
	// written for Docker Hub unchanged.
	Aliases []string
	// Platforms restricts the platforms the image can be built for, e.g.
	// to the host's when a File is a host binary; nil means any.
	Platforms []v1.Platform
}

// File is a host file copied into an image.
type File struct {
	// Host is the file's path on this machine.
	Host string
	// Path is its absolute path in the image.
	Path string
	// Mode is its permission bits; 0 means 0o644, or 0o755 when Static.
	Mode int64
	// Static requires a statically linked ELF executable of the image's
	// architecture: a dynamically linked one would find no libc in an
	// image without a distribution.
	Static bool
	// Hint is appended to the error when the file is missing or not
	// static: the command that installs the right one.
	Hint string
}

// Symlink is a symbolic link in an image.
type Symlink struct {
	// Path is the link's absolute path, Target what it points at.
	Path, Target string
}

// Platforms every image is built for unless a caller narrows them.
var (
	LinuxAMD64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	LinuxARM64 = v1.Platform{OS: "linux", Architecture: "arm64"}
)

// DefaultPlatforms are the platforms Build targets when given none.
func DefaultPlatforms() []v1.Platform { return []v1.Platform{LinuxAMD64, LinuxARM64} }

// HostPlatform is linux on this machine's architecture: the one platform
// a local node runs.
func HostPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: runtime.GOARCH} }

// ParsePlatforms parses "linux/amd64,linux/arm64"-style values.
func ParsePlatforms(values []string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, s := range values {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return nil, fmt.Errorf("parse platform %q: %w", s, err)
		}
		if p.OS != "linux" {
			return nil, fmt.Errorf("platform %q: only linux images can be built", s)
		}
		out = append(out, *p)
	}
	return out, nil
}

// binaryPath is where the compiled package lands in the image.
func (s Spec) binaryPath() string {
	if s.Binary != "" {
		return s.Binary
	}
	return "/" + s.Name
}

// entrypoint is the image's ENTRYPOINT.
func (s Spec) entrypoint() []string {
	if len(s.Entrypoint) > 0 {
		return s.Entrypoint
	}
	if s.Package == "" {
		return nil
	}
	return []string{s.binaryPath()}
}

// platformsFor narrows the wanted platforms to those the spec allows.
func (s Spec) platformsFor(want []v1.Platform) []v1.Platform {
	if len(s.Platforms) == 0 {
		return want
	}
	var out []v1.Platform
	for _, w := range want {
		for _, p := range s.Platforms {
			if w.OS == p.OS && w.Architecture == p.Architecture && w.Variant == p.Variant {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

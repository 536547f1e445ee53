package images

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/pflag"

	"github.com/podid/podid/internal/image"
)

// Options are the flags both subcommands share.
type Options struct {
	// Source is a folder inside the podid clone to build from.
	Source string
	// Platforms are os/arch values; images with host binaries (busybox)
	// are built for the host's alone.
	Platforms []string
}

func newOptions() Options {
	var ps []string
	for _, p := range image.DefaultPlatforms() {
		ps = append(ps, p.String())
	}
	return Options{Source: ".", Platforms: ps}
}

func (o *Options) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Source, "source", o.Source, "A folder inside the podid clone whose source is built.")
	fs.StringSliceVar(&o.Platforms, "platform", o.Platforms, "Platforms to build for, os/arch, comma-separated; busybox is built for this machine's alone.")
}

func (o *Options) platforms() ([]v1.Platform, error) {
	ps, err := image.ParsePlatforms(o.Platforms)
	if err != nil {
		return nil, fmt.Errorf("--platform: %w", err)
	}
	if len(ps) == 0 {
		return nil, errors.New("--platform: give at least one platform, e.g. linux/" + image.HostPlatform().Architecture)
	}
	return ps, nil
}

// BuildOptions are the flags of `podid images build`.
type BuildOptions struct {
	Options
	// Out is the folder that receives NAME/oci and NAME/OS-ARCH.tar.
	Out string
}

// AddFlags binds the options to fs.
func (o *BuildOptions) AddFlags(fs *pflag.FlagSet) {
	o.addFlags(fs)
	fs.StringVar(&o.Out, "out", o.Out, "Folder to write each image to: NAME/oci is an OCI image layout, NAME/OS-ARCH.tar a docker archive for `ctr -n k8s.io images import` (required).")
}

// Validate reports bad option values.
func (o *BuildOptions) Validate() error {
	var errs []error
	if o.Out == "" {
		errs = append(errs, errors.New("--out is required"))
	}
	if _, err := o.platforms(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// PushOptions are the flags of `podid images push`.
type PushOptions struct {
	Options
	// Registry is HOST[:PORT].
	Registry string
	// Insecure pushes over plain HTTP.
	Insecure bool
}

// AddFlags binds the options to fs.
func (o *PushOptions) AddFlags(fs *pflag.FlagSet) {
	o.addFlags(fs)
	fs.StringVar(&o.Registry, "registry", o.Registry, "Registry to push to, HOST:PORT; images go to HOST:PORT/NAME:latest and their aliases (required).")
	fs.BoolVar(&o.Insecure, "insecure", o.Insecure, "Push over plain HTTP, as to a loopback registry.")
}

// Validate reports bad option values.
func (o *PushOptions) Validate() error {
	var errs []error
	switch {
	case o.Registry == "":
		errs = append(errs, errors.New("--registry is required"))
	case strings.Contains(o.Registry, "://") || strings.Contains(o.Registry, "/"):
		errs = append(errs, fmt.Errorf("--registry %q: want HOST:PORT without a scheme or path; --insecure selects plain HTTP", o.Registry))
	}
	if _, err := o.platforms(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

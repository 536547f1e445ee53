package images

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/image"
)

// NewCommand returns `podid images` and its subcommands.
func NewCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Build podid's container images from source, without Docker",
	}
	cmd.AddCommand(newBuildCommand(ctx), newPushCommand(ctx), newListCommand(), newRegistryCommand(ctx))
	return cmd
}

func newBuildCommand(ctx context.Context) *cobra.Command {
	o := &BuildOptions{Options: newOptions()}
	cmd := &cobra.Command{
		Use:   "build [NAME...] --out DIR",
		Short: "Build images into OCI layouts and docker archives",
		Long: "Build the named images (all when none is named) and write, for each, " +
			"DIR/NAME/oci (an OCI image layout) and DIR/NAME/OS-ARCH.tar (a docker archive " +
			"for `ctr -n k8s.io images import`). Prints NAME DIGEST per image.",
		ValidArgs: names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return runBuild(ctx, o, args, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func newPushCommand(ctx context.Context) *cobra.Command {
	o := &PushOptions{Options: newOptions()}
	cmd := &cobra.Command{
		Use:       "push [NAME...] --registry HOST:PORT",
		Short:     "Build images and push them to a registry",
		Long:      "Build the named images (all when none is named) and push each to HOST:PORT/NAME:latest and its aliases. Prints NAME DIGEST per image.",
		ValidArgs: names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return runPush(ctx, o, args, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func newListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the images podid builds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range image.Catalog() {
				src := s.Package
				if src == "" && len(s.Files) > 0 {
					src = s.Files[0].Host
				}
				if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", s.Name, src); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func names() []string {
	var out []string
	for _, s := range image.Catalog() {
		out = append(out, s.Name)
	}
	return out
}

func runBuild(ctx context.Context, o *BuildOptions, args []string, out io.Writer) error {
	return forEach(ctx, o.Options, args, out, func(b *image.Built) error {
		dir := filepath.Join(o.Out, b.Spec.Name)
		if err := image.WriteLayout(filepath.Join(dir, "oci"), b); err != nil {
			return err
		}
		for _, pi := range b.Images {
			file := filepath.Join(dir, pi.Platform.OS+"-"+pi.Platform.Architecture+".tar")
			if err := image.WriteTarball(file, b, pi.Platform); err != nil {
				return err
			}
		}
		return nil
	})
}

func runPush(ctx context.Context, o *PushOptions, args []string, out io.Writer) error {
	po := image.PushOptions{Registry: o.Registry, Insecure: o.Insecure}
	return forEach(ctx, o.Options, args, out, func(b *image.Built) error {
		return image.Push(ctx, po, b)
	})
}

// forEach builds the images named in args, one after the other (a build
// already uses every core), hands each to emit and prints NAME DIGEST.
func forEach(ctx context.Context, o Options, args []string, out io.Writer, emit func(*image.Built) error) error {
	specs, err := image.Lookup(args...)
	if err != nil {
		return err
	}
	platforms, err := o.platforms()
	if err != nil {
		return err
	}
	root, err := image.FindModuleRoot(o.Source)
	if err != nil {
		return err
	}
	bo := image.Options{ModuleRoot: root, Platforms: platforms}
	for _, s := range specs {
		b, err := image.Build(ctx, bo, s)
		if err != nil {
			return err
		}
		if err := emit(b); err != nil {
			return err
		}
		d, err := b.Digest()
		if err != nil {
			return fmt.Errorf("digest of %s: %w", s.Name, err)
		}
		if _, err := fmt.Fprintf(out, "%s %s\n", s.Name, d); err != nil {
			return err
		}
	}
	return nil
}

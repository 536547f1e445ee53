package checkacr

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/acrcred"
)

// checkOptions are check-acr's flags: the provider's plus the image.
type checkOptions struct {
	acrcred.Options
	// Image is the image to check a pull of; empty stops after the exchange.
	Image string
}

// NewCommand returns `check-acr`.
func NewCommand(ctx context.Context) *cobra.Command {
	return newCommand(ctx, os.Getenv, acrcred.Deps{})
}

func newCommand(ctx context.Context, getenv func(string) string, deps acrcred.Deps) *cobra.Command {
	o := &checkOptions{Options: *acrcred.NewOptions(getenv)}
	cmd := &cobra.Command{
		Use:   "check-acr [REGISTRY]",
		Short: "Check that this node's kubelet identity can pull from an Azure Container Registry, step by step",
		Long: `Walks the image-pull path as the kubelet's credential provider and the container runtime
do, from this node: DNS of the login server, the registry's challenge, the kubelet
identity's Azure AD token (azure.json: managed identity through IMDS, or service
principal), the exchange for an ACR refresh token, and with --image the
repository:<repo>:pull token and the image's manifest. Azure's exchange succeeds for
any identity, so only the last two show that the pull itself would work.

Each step prints one line (PASS, FAIL or SKIP); a failure adds its cause and fix.
The exit status is 1 when a step fails.`,
		Example: `  podid check-acr --image myacr.azurecr.io/app/web:v1
  podid check-acr myacr --azure-config ./azure.json`,
		Args: cobra.MaximumNArgs(1),
		// stdout carries only the answer; main prints the error once.
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			return run(ctx, o, arg, deps, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Image, "image", "", "The image a pod pulls, e.g. myacr.azurecr.io/app/web:v1; checks its pull token and manifest.")
	return cmd
}

func run(ctx context.Context, o *checkOptions, arg string, deps acrcred.Deps, out io.Writer) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	cfg, cfgErr := acrcred.LoadAzureConfig(o.AzureConfig)
	env, _ := acrcred.EnvironmentOf(cfg.Cloud)
	mirrors, err := acrcred.ParseMirrors(o.RegistryMirror)
	if err != nil {
		return err
	}
	login, im, err := acrcred.ResolveTarget(arg, o.Image, env.RegistrySuffix, env.Suffixes(), mirrors)
	if err != nil {
		return err
	}
	results := []acrcred.Result{acrcred.ConfigResult(o.AzureConfig, cfg, cfgErr)}
	if cfgErr == nil {
		c, err := acrcred.New(cfg, o.Options, deps)
		if err != nil {
			return err
		}
		results = append(results, c.Check(ctx, login, im)...)
	}
	verdict, ok := acrcred.Verdict(results, login, im)
	if _, err := io.WriteString(out, acrcred.Format(results, verdict)); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if !ok {
		return fmt.Errorf("check-acr: the pull path to %s fails", login)
	}
	return nil
}

package acrprovider

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/acrcred"
)

// NewCommand returns `acr-credential-provider`.
func NewCommand(ctx context.Context) *cobra.Command {
	return newCommand(ctx, os.Getenv, acrcred.Deps{})
}

func newCommand(ctx context.Context, getenv func(string) string, deps acrcred.Deps) *cobra.Command {
	o := acrcred.NewOptions(getenv)
	cmd := &cobra.Command{
		Use:   "acr-credential-provider [AZURE_JSON]",
		Short: "Kubelet image credential provider for Azure Container Registry, as AKS's acr-credential-provider",
		Long: `Reads a CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1) on stdin and
writes a CredentialProviderResponse on stdout. For an image of an Azure Container
Registry (*.azurecr.io, .cn, .de, .us) it gets an Azure AD token for the node's kubelet
identity from azure.json (managed identity through IMDS, or the service principal's
secret), exchanges it at the registry's /oauth2/exchange for an ACR refresh token and
answers it for the null-GUID user, cached per registry. Other images get an empty
answer. Errors go to stderr with their cause and fix, and the exit status is 1.

The kubelet's credential provider config names it like AKS's:
  providers:
    - name: acr-credential-provider   # a link to podid in --image-credential-provider-bin-dir
      apiVersion: credentialprovider.kubelet.k8s.io/v1
      matchImages: ["*.azurecr.io", "*.azurecr.cn", "*.azurecr.de", "*.azurecr.us"]
      defaultCacheDuration: 10m
      args: [acr-credential-provider, /etc/kubernetes/azure.json]`,
		Example: `  echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"myacr.azurecr.io/app:v1"}' |
    podid acr-credential-provider /etc/kubernetes/azure.json`,
		Args: cobra.MaximumNArgs(1),
		// stdout carries only the answer; main prints the error once.
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("azure-config") && o.AzureConfig != args[0] {
					return fmt.Errorf("azure.json named twice (%s and --azure-config %s); give it once", args[0], o.AzureConfig)
				}
				o.AzureConfig = args[0]
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return run(ctx, o, deps, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, o *acrcred.Options, deps acrcred.Deps, in io.Reader, out io.Writer) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	cfg, err := acrcred.LoadAzureConfig(o.AzureConfig)
	if err != nil {
		return err
	}
	c, err := acrcred.New(cfg, *o, deps)
	if err != nil {
		return err
	}
	return c.Serve(ctx, in, out)
}

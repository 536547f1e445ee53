package wiwebhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/logging"
	"github.com/podid/podid/internal/wiwebhook"
)

// NewCommand returns `podid wi-webhook` and its `manifest` subcommand.
func NewCommand(ctx context.Context) *cobra.Command {
	opts := NewOptions(os.Getenv)
	cmd := &cobra.Command{
		Use:   "wi-webhook",
		Short: "Run the Azure AD Workload Identity webhook (azure-workload-identity v1.6 compatible)",
		Long: `wi-webhook injects Azure AD Workload Identity into pods labelled
azure.workload.identity/use: "true", as azure-workload-identity v1.6's
webhook does: a projected service account token and AZURE_CLIENT_ID,
AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST. It
warns about pods and service accounts that look meant for workload identity
but will not get it.

It issues its own serving certificate into --cert-secret, renews it before
it expires and keeps the caBundle of the --webhook-config configurations
current. Print those configurations with 'podid wi-webhook manifest'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Validate(); err != nil {
				return err
			}
			log := opts.Log.New(cmd.ErrOrStderr())
			opts.Log.Install(log)
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return logging.Logged(log, "wi-webhook stopped", run(ctx, opts, log))
		},
	}
	opts.AddFlags(cmd.Flags())
	cmd.AddCommand(newManifestCommand())
	return cmd
}

func run(ctx context.Context, opts *Options, log *slog.Logger) error {
	cfg, err := kubeclient.Config(opts.Kubeconfig)
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("build Kubernetes client: %w", err)
	}
	so := opts.serverOptions()
	so.Logger = log
	srv, err := wiwebhook.New(kube, so)
	if err != nil {
		return err
	}
	var ls [3]net.Listener
	for i, addr := range []string{opts.Address, opts.ProbeAddress, opts.MetricsAddress} {
		if addr == "" {
			continue
		}
		if ls[i], err = net.Listen("tcp", addr); err != nil {
			for _, l := range ls[:i] {
				if l != nil {
					_ = l.Close()
				}
			}
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
	log.Info("wi-webhook starting", "tenant", so.Config.TenantID, "authority_host", so.Config.AuthorityHost,
		"audience", so.Config.Audience, "secret", so.Certs.Secret.String(), "webhook_config", so.Certs.ConfigName)
	return srv.Serve(ctx, ls[0], ls[1], ls[2])
}

type manifestOptions struct {
	namespace, service, url, name string
	port                          int32
}

func newManifestCommand() *cobra.Command {
	o := manifestOptions{namespace: DefaultNamespace, service: DefaultServiceName, name: wiwebhook.DefaultConfigName, port: 443}
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Print the webhook configurations (mutating and warning) as YAML",
		Long: `manifest prints the MutatingWebhookConfiguration that injects workload
identity (failurePolicy Fail, for pods labelled azure.workload.identity/use:
"true") and the ValidatingWebhookConfiguration that only warns about every
other pod (failurePolicy Ignore). Their caBundle is empty: the running
webhook fills it in.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mo := wiwebhook.ManifestOptions{Name: o.name, ServiceNamespace: o.namespace, ServiceName: o.service, ServicePort: o.port}
			if o.url != "" {
				u, err := url.Parse(o.url)
				if err != nil || u.Scheme != "https" || u.Host == "" {
					return fmt.Errorf("--url %q: want the webhook's https base URL, e.g. https://127.0.0.1:9443", o.url)
				}
				mo.URL = o.url
			}
			if o.port < 1 || o.port > 65535 {
				return errors.New("--service-port: want 1 to 65535")
			}
			out, err := wiwebhook.Manifest(mo).YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.namespace, "namespace", o.namespace, "Namespace of the webhook's Service.")
	fs.StringVar(&o.service, "service-name", o.service, "Service the API server calls.")
	fs.Int32Var(&o.port, "service-port", o.port, "Port of that Service.")
	fs.StringVar(&o.url, "url", o.url, "Call the webhook at this https base URL instead of a Service (a webhook outside the cluster).")
	fs.StringVar(&o.name, "webhook-config", o.name, "Name of both configurations.")
	return cmd
}

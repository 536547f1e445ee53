// Package gettoken is `podid get-token`, a client-go exec credential
// plugin taking kubelogin's get-token arguments, for people without
// kubelogin: device code sign-in to the embedded cloud (or a service
// principal's secret), tokens cached between calls.
package gettoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/podid/podid/internal/signin"
)

// httpTimeout bounds one call to the token endpoints.
const httpTimeout = 30 * time.Second

// environments are the --environment values kubelogin knows; with
// --authority-host they only name the cloud.
var environments = []string{"AzurePublicCloud", "AzureChinaCloud", "AzureUSGovernmentCloud"}

// Options are kubelogin get-token's flags that podid honours or accepts.
type Options struct {
	Request signin.Request
	// AuthorityHost is the embedded cloud, https://127.0.0.1:<port>/.
	AuthorityHost string
	// Environment and DisableInstanceDiscovery are accepted for
	// kubelogin's kubeconfigs: podid never asks the public cloud.
	Environment              string
	DisableInstanceDiscovery bool
}

// NewOptions returns kubelogin's defaults.
func NewOptions() *Options {
	cache := ""
	if home, err := os.UserHomeDir(); err == nil {
		cache = filepath.Join(home, ".kube", "cache", "podid")
	}
	return &Options{Request: signin.Request{Login: signin.LoginDeviceCode, CacheDir: cache}, Environment: environments[0]}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	r := &o.Request
	fs.StringVarP(&r.Login, "login", "l", r.Login, "Login method: devicecode (a person; prints a code on stderr) or spn (a service principal; AAD_SERVICE_PRINCIPAL_CLIENT_ID and _SECRET). AAD_LOGIN_METHOD overrides it, as in kubelogin.")
	fs.StringVar(&r.ServerID, "server-id", r.ServerID, "Application ID of the resource the token is for: the AKS server app 6dae42f8-4368-4678-94ff-3960e28e3630.")
	fs.StringVar(&r.ClientID, "client-id", r.ClientID, "Application ID of the client signing in: the AKS client app 80faf920-1908-4b52-b5ef-a8e7bedfc67a for devicecode, the service principal for spn.")
	fs.StringVar(&r.ClientSecret, "client-secret", r.ClientSecret, "Service principal secret for spn; prefer AAD_SERVICE_PRINCIPAL_CLIENT_SECRET, which stays out of the process list.")
	fs.StringVarP(&r.TenantID, "tenant-id", "t", r.TenantID, "Azure AD tenant ID.")
	fs.StringVar(&r.CacheDir, "cache-dir", r.CacheDir, "Folder of the token cache (access and refresh tokens, files readable by you only); empty disables caching.")
	fs.StringVar(&o.AuthorityHost, "authority-host", o.AuthorityHost, "Azure AD authority host, ending in /: the embedded cloud's URL (podid up's record has it).")
	fs.StringVarP(&o.Environment, "environment", "e", o.Environment, "Azure cloud name, accepted as kubelogin takes it; --authority-host decides where podid signs in.")
	fs.BoolVar(&o.DisableInstanceDiscovery, "disable-instance-discovery", o.DisableInstanceDiscovery, "Accepted for kubelogin's arguments; podid never does instance discovery.")
}

// Validate reports what is missing.
func (o *Options) Validate() error {
	var errs []error
	if o.AuthorityHost == "" {
		errs = append(errs, errors.New("--authority-host is required: podid get-token signs in to the embedded cloud only (use kubelogin for Azure)"))
	}
	if !slices.Contains(environments, o.Environment) {
		errs = append(errs, fmt.Errorf("--environment %q: want one of %v", o.Environment, environments))
	}
	if err := o.Request.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NewCommand returns `podid get-token`.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "get-token",
		Short: "Get an Azure AD token for the cluster: a kubectl exec credential plugin taking kubelogin's arguments",
		Long: `get-token prints an ExecCredential (client.authentication.k8s.io/v1 or v1beta1,
as KUBERNETES_EXEC_INFO asks) holding an access token for the AKS server app.
A person signs in with the device code flow: the code is printed on stderr and
approved with podid cloud device approve; the access and refresh tokens are
cached in --cache-dir, so later calls renew silently. A service principal
(--login spn or AAD_LOGIN_METHOD=spn) signs in with
AAD_SERVICE_PRINCIPAL_CLIENT_ID and AAD_SERVICE_PRINCIPAL_CLIENT_SECRET.
podid get-credentials writes kubeconfigs that run it.`,
		Args: cobra.NoArgs,
		// Stdout carries the credential kubectl parses: never usage text.
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Request = signin.FromEnv(o.Request, os.Getenv)
			if err := o.Validate(); err != nil {
				return err
			}
			c := &signin.Client{Authority: o.AuthorityHost, TenantID: o.Request.TenantID,
				HTTP: &http.Client{Timeout: httpTimeout}, Now: time.Now, Wait: wait}
			t, err := signin.Get(ctx, c, o.Request, cmd.ErrOrStderr())
			if err != nil {
				return fmt.Errorf("failed to get token: %w", err)
			}
			out, err := signin.ExecCredential(t, os.Getenv("KUBERNETES_EXEC_INFO"))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return err
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// wait sleeps for d unless ctx ends first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Package getcredentials is `podid get-credentials`, az aks
// get-credentials for a podid up run: a kubeconfig whose user signs in
// with Azure AD (kubelogin or podid get-token), or with --admin the local
// admin account's client certificate unless local accounts are disabled.
package getcredentials

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	cliup "github.com/podid/podid/internal/cli/up"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
	"github.com/podid/podid/internal/signin"
)

// ErrLocalAccountsDisabled is az's refusal of --admin on a cluster
// created with --disable-local-accounts.
var ErrLocalAccountsDisabled = errors.New("Operation failed with status: 'Bad Request'. Details: " + signin.LocalAccountsDisabled)

// Options are the flags of `podid get-credentials`.
type Options struct {
	StateDir string
	// File is the kubeconfig to merge into; "-" prints it instead.
	File string
	// Admin asks for the local admin account's client certificate.
	Admin bool
	// Kubelogin makes the exec entry run kubelogin, as az writes it,
	// instead of podid get-token.
	Kubelogin bool
	// Login is the exec entry's --login: devicecode or spn.
	Login string
}

// NewOptions returns az's defaults: merge into $HOME/.kube/config.
func NewOptions() *Options {
	file := ""
	if home, err := os.UserHomeDir(); err == nil {
		file = filepath.Join(home, ".kube", "config")
	}
	return &Options{StateDir: runstate.DefaultDir(), File: file, Login: signin.LoginDeviceCode}
}

// NewCommand returns `podid get-credentials`.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "get-credentials",
		Short: "Write a kubeconfig for the running cluster, as az aks get-credentials: Azure AD sign-in, or --admin",
		Example: `  podid get-credentials -f ~/.kube/podid          # signs in with device code via podid get-token
  podid get-credentials --kubelogin              # the same entry run by kubelogin, as az writes it
  podid get-credentials --admin -f -             # the local admin account, printed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(ctx, o, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	cliup.AddStateDirFlag(fs, &o.StateDir)
	fs.StringVarP(&o.File, "file", "f", o.File, "Kubeconfig to merge the cluster into (entries of the same name are replaced and its context made current); - prints it to stdout.")
	fs.BoolVarP(&o.Admin, "admin", "a", o.Admin, "Get the local admin account's client certificate instead; refused when podid up ran with --disable-local-accounts.")
	fs.BoolVar(&o.Kubelogin, "kubelogin", o.Kubelogin, "Run kubelogin (github.com/Azure/kubelogin) for the sign-in, as az writes it, instead of podid get-token.")
	fs.StringVarP(&o.Login, "login", "l", o.Login, "Login method of the exec entry: devicecode (people) or spn (a service principal from AAD_SERVICE_PRINCIPAL_CLIENT_ID and _SECRET). AAD_LOGIN_METHOD overrides it when kubectl runs.")
	return cmd
}

func run(_ context.Context, o *Options, out io.Writer) error {
	if o.Login != signin.LoginDeviceCode && o.Login != signin.LoginSPN {
		return fmt.Errorf("--login %q: want %s or %s", o.Login, signin.LoginDeviceCode, signin.LoginSPN)
	}
	if o.File == "" {
		return errors.New("--file is required (no home folder to default to)")
	}
	rec, err := runstate.Read(plan.RecordFile(o.StateDir))
	if err != nil {
		return fmt.Errorf("read the run of state folder %s (is podid up running? start it with podid up --detach): %w", o.StateDir, err)
	}
	cfg, err := build(o, rec)
	if err != nil {
		return err
	}
	if o.File == "-" {
		b, err := clientcmd.Write(*cfg)
		if err != nil {
			return fmt.Errorf("encode kubeconfig: %w", err)
		}
		_, err = out.Write(b)
		return err
	}
	if err := merge(o.File, cfg); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "Merged %q as current context in %s\n", cfg.CurrentContext, o.File)
	return err
}

// build is the kubeconfig of rec's cluster that o asks for.
func build(o *Options, rec *plan.Record) (*clientcmdapi.Config, error) {
	s := rec.SignIn
	if s == nil || rec.APIServerCA == "" {
		return nil, fmt.Errorf("the run of state folder %s started before podid had Azure AD sign-in; restart it with podid down and podid up", o.StateDir)
	}
	ca, err := os.ReadFile(rec.APIServerCA)
	if err != nil {
		return nil, fmt.Errorf("read the apiserver CA: %w", err)
	}
	c := signin.Cluster{Name: s.Cluster.Name, ResourceGroup: s.Cluster.ResourceGroup, Server: rec.APIServer, CAPEM: ca}
	if o.Admin {
		if !s.LocalAccounts {
			return nil, ErrLocalAccountsDisabled
		}
		admin, err := clientcmd.LoadFromFile(rec.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("read the admin kubeconfig: %w", err)
		}
		ctx := admin.Contexts[admin.CurrentContext]
		if ctx == nil || admin.AuthInfos[ctx.AuthInfo] == nil {
			return nil, fmt.Errorf("the admin kubeconfig %s has no current user", rec.Kubeconfig)
		}
		a := admin.AuthInfos[ctx.AuthInfo]
		return signin.AdminConfig(c, a.ClientCertificateData, a.ClientKeyData), nil
	}
	command := "kubelogin"
	if !o.Kubelogin {
		if command, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the podid executable: %w", err)
		}
	}
	e := signin.Exec{Command: command, Login: o.Login, ServerID: s.ServerAppID, ClientID: s.ClientAppID, TenantID: s.TenantID,
		AuthorityHost: rec.CloudURL + "/", CAFile: rec.CloudCA, CacheDir: plan.TokenCacheDir(rec.StateDir)}
	return signin.UserConfig(c, e), nil
}

// merge writes cfg into the kubeconfig file, keeping its other entries.
func merge(file string, cfg *clientcmdapi.Config) error {
	into, err := clientcmd.LoadFromFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		into, err = clientcmdapi.NewConfig(), nil
	}
	if err != nil {
		return fmt.Errorf("read kubeconfig %s: %w", file, err)
	}
	signin.Merge(into, cfg)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create the folder of %s: %w", file, err)
	}
	if err := clientcmd.WriteToFile(*into, file); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", file, err)
	}
	// It may hold a private key; WriteToFile keeps an existing file's mode.
	if err := os.Chmod(file, 0o600); err != nil {
		return fmt.Errorf("restrict kubeconfig %s: %w", file, err)
	}
	return nil
}

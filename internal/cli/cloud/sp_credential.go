package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/plan/runstate"
)

// spCredentialOptions are the flags of `podid cloud sp credential reset`,
// named as az ad sp credential reset names them.
type spCredentialOptions struct {
	TargetOptions
	// ID is the application's app ID or name.
	ID string
	// Append keeps the other secrets.
	Append bool
	// Years is the new secret's lifetime.
	Years int
}

// newSPCommand is `podid cloud sp credential reset`, az ad sp credential
// reset: how a service principal whose secret expired (AADSTS7000222)
// gets a new one.
func newSPCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sp",
		Short: "Manage service principals (applications) of a running embedded cloud, as az ad sp does",
	}
	cred := &cobra.Command{
		Use:   "credential",
		Short: "Manage a service principal's secrets (az ad sp credential)",
	}
	o := &spCredentialOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}, Years: embedded.DefaultSecretYears}
	reset := &cobra.Command{
		Use:   "reset --id APP_ID_OR_NAME [--append] [--years N]",
		Short: "Give a service principal a new random secret and print it once, as JSON (az ad sp credential reset)",
		Long: `Reset creates a new client secret for the application and prints az's answer,
{"appId", "password", "tenant"}: the password is shown only here. Without
--append the application's other secrets are removed. On a cluster whose
kubelet signs in as this principal, the nodes' azure.json then needs the new
secret (az aks update-credentials --reset-service-principal).`,
		Example: "  podid cloud sp credential reset --id aks-kubelet-sp --append",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.ID == "" {
				return errors.New("--id is required: the application's app ID or name")
			}
			if o.Years < 1 {
				return fmt.Errorf("--years must be at least 1, got %d", o.Years)
			}
			return runSPCredentialReset(ctx, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(reset.Flags())
	reset.Flags().StringVar(&o.ID, "id", "", "The service principal: its app ID or name.")
	reset.Flags().BoolVar(&o.Append, "append", false, "Keep the principal's other secrets; without it they are removed.")
	reset.Flags().IntVar(&o.Years, "years", o.Years, "Years the new secret stays valid.")
	cred.AddCommand(reset)
	cmd.AddCommand(cred)
	return cmd
}

func runSPCredentialReset(ctx context.Context, o *spCredentialOptions, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	a, err := newAdmin(o.TargetOptions)
	if err != nil {
		return err
	}
	var res embedded.AdminSecretResult
	body := embedded.AdminSecretReset{Append: o.Append, Years: o.Years}
	if err := a.do(ctx, http.MethodPost, "/admin/applications/"+url.PathEscape(o.ID)+"/secrets", body, &res); err != nil {
		return fmt.Errorf("reset the secret of %s: %w", o.ID, err)
	}
	// az prints the new password to stdout: it is the only place the
	// user ever sees it.
	b, err := json.MarshalIndent(struct {
		AppID    string `json:"appId"`
		Password string `json:"password"`
		Tenant   string `json:"tenant"`
	}{res.AppID, res.Password, res.Tenant}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the reset: %w", err)
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

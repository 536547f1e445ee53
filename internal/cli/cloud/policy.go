package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/plan/runstate"
)

// policyOptions are the flags of `podid cloud vault-policy set|delete`.
type policyOptions struct {
	TargetOptions
	Vault, Principal string
	Secrets          []string
}

func newPolicyCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vault-policy",
		Short: "Set or delete a Key Vault access policy in a running embedded cloud, as az keyvault set-policy|delete-policy would",
	}
	cmd.AddCommand(newPolicyVerb(ctx, "set", "Give a principal exactly these secret permissions on an access-policy vault (az keyvault set-policy)"),
		newPolicyVerb(ctx, "delete", "Remove a principal's access policy from a vault (az keyvault delete-policy)"))
	return cmd
}

func newPolicyVerb(ctx context.Context, verb, short string) *cobra.Command {
	o := &policyOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}}
	use := verb + " --vault NAME --principal NAME"
	if verb == "set" {
		use += " --secrets get,list"
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: "  podid cloud vault-policy " + verb + " --vault kv-westus2-aks --principal aks-aad-user-identity" + map[bool]string{true: " --secrets get,list"}[verb == "set"],
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Vault == "" || o.Principal == "" || (verb == "set" && len(o.Secrets) == 0) {
				return errors.New("--vault and --principal are required, and --secrets with set")
			}
			return runPolicy(ctx, verb, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Vault, "vault", "", "Name of the Key Vault.")
	cmd.Flags().StringVar(&o.Principal, "principal", "", "Who: an identity or application name of the world, system/<machine>, or an object ID (az's --object-id).")
	if verb == "set" {
		cmd.Flags().StringSliceVar(&o.Secrets, "secrets", nil, "Secret permissions: get, list, set, delete, all (az's --secret-permissions).")
	}
	return cmd
}

func runPolicy(ctx context.Context, verb string, o *policyOptions, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*adminTimeout)
	defer cancel()
	a, st, err := connect(ctx, o.TargetOptions)
	if err != nil {
		return err
	}
	oid, err := world.ResolvePrincipal(st, o.Principal)
	if err != nil {
		return fmt.Errorf("--principal: %w", err)
	}
	p := embedded.AdminPolicy{Vault: o.Vault, ObjectID: oid, Secrets: o.Secrets}
	if verb == "set" {
		if err := a.do(ctx, http.MethodPut, "/admin/accessPolicies", p, nil); err != nil {
			return fmt.Errorf("set the access policy of %s on %s: %w", o.Principal, o.Vault, err)
		}
		_, err = fmt.Fprintf(out, "%s (object id %s) may now %s secrets of %s\n", o.Principal, oid, strings.Join(o.Secrets, ", "), o.Vault)
		return err
	}
	var res struct {
		Removed int `json:"removed"`
	}
	if err := a.do(ctx, http.MethodDelete, "/admin/accessPolicies", p, &res); err != nil {
		return fmt.Errorf("delete the access policy of %s on %s: %w", o.Principal, o.Vault, err)
	}
	_, err = fmt.Fprintf(out, "removed %d access policy(ies) of %s (object id %s) from %s\n", res.Removed, o.Principal, oid, o.Vault)
	return err
}

package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/plan/runstate"
)

// roleOptions are the flags of `podid cloud role grant|revoke`.
type roleOptions struct {
	TargetOptions
	// Principal, Role and Scope are as a world file writes them.
	Principal, Role, Scope string
}

func newRoleCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Grant or revoke a built-in role in a running embedded cloud, as az role assignment create|delete would",
	}
	cmd.AddCommand(newRoleVerb(ctx, "grant", "Assign a built-in role to a principal at a scope (az role assignment create)"),
		newRoleVerb(ctx, "revoke", "Remove a principal's assignments of a role at exactly a scope (az role assignment delete)"))
	return cmd
}

func newRoleVerb(ctx context.Context, verb, short string) *cobra.Command {
	o := &roleOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}}
	cmd := &cobra.Command{
		Use:   verb + " --principal NAME --role ROLE --scope REF",
		Short: short,
		Example: `  podid cloud role ` + verb + ` --principal podid-mic --role "Managed Identity Operator" --scope identity/aks-aad-user-identity
  podid cloud role ` + verb + ` --principal podid-mic --role "Virtual Machine Contributor" --scope resourceGroup/MC_rg-aks-poc-container-westus2
  podid cloud role ` + verb + ` --principal alice@contoso.com --role "Azure Kubernetes Service RBAC Reader" --scope managedCluster/aks-poc/namespaces/dev`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Principal == "" || o.Role == "" || o.Scope == "" {
				return errors.New("--principal, --role and --scope are required")
			}
			return runRole(ctx, verb, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Principal, "principal", "", "Who: a user principal name, a group name, an application or identity name of the world, system/<machine>, or an object ID (az's --assignee).")
	cmd.Flags().StringVar(&o.Role, "role", "", "A built-in role name or ID, e.g. \"Managed Identity Operator\".")
	cmd.Flags().StringVar(&o.Scope, "scope", "", "A resource ID, or kind/name as in a world file: subscription/, resourceGroup/, identity/, scaleSet/, virtualMachine/, vault/, registry/, managedCluster/<name>[/namespaces/<namespace>].")
	return cmd
}

func runRole(ctx context.Context, verb string, o *roleOptions, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*adminTimeout)
	defer cancel()
	a, st, err := connect(ctx, o.TargetOptions)
	if err != nil {
		return err
	}
	g, err := resolveGrant(st, o)
	if err != nil {
		return err
	}
	if verb == "grant" {
		if err := a.do(ctx, http.MethodPost, "/admin/roleAssignments", g, nil); err != nil {
			return fmt.Errorf("grant %q to %s at %s: %w", o.Role, o.Principal, g.Scope, err)
		}
		_, err = fmt.Fprintf(out, "granted %q to %s (object id %s) at %s\n", o.Role, o.Principal, g.PrincipalID, g.Scope)
		return err
	}
	var res struct {
		Removed int `json:"removed"`
	}
	if err := a.do(ctx, http.MethodDelete, "/admin/roleAssignments", g, &res); err != nil {
		return fmt.Errorf("revoke %q from %s at %s: %w", o.Role, o.Principal, g.Scope, err)
	}
	_, err = fmt.Fprintf(out, "revoked %d assignment(s) of %q from %s (object id %s) at %s\n", res.Removed, o.Role, o.Principal, g.PrincipalID, g.Scope)
	return err
}

// resolveGrant turns the world-file references of o into IDs of st.
func resolveGrant(st embedded.State, o *roleOptions) (embedded.AdminGrant, error) {
	oid, err := world.ResolvePrincipal(st, o.Principal)
	if err != nil {
		return embedded.AdminGrant{}, fmt.Errorf("--principal: %w", err)
	}
	scope, err := world.ResolveScope(st, o.Scope)
	if err != nil {
		return embedded.AdminGrant{}, fmt.Errorf("--scope: %w", err)
	}
	return embedded.AdminGrant{PrincipalID: oid, Role: o.Role, Scope: scope}, nil
}

package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/authz"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/plan/runstate"
)

// acrPullRole is the role az aks update --attach-acr assigns.
const acrPullRole = "AcrPull"

// acrOptions are the flags of `podid cloud acr attach|detach`.
type acrOptions struct {
	TargetOptions
	// Registry is a registry name, login server or resource ID.
	Registry string
	// Principal is the kubelet identity: name, client ID or object ID.
	Principal string
}

func newACRCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acr",
		Short: "Attach or detach a container registry to a kubelet identity (az aks update --attach-acr|--detach-acr), or change its firewall (az acr update, az acr network-rule), in a running embedded cloud",
	}
	cmd.AddCommand(newACRVerb(ctx, "attach", "Assign AcrPull on the registry to the kubelet identity (az aks update --attach-acr); nothing happens when it is there"),
		newACRVerb(ctx, "detach", "Remove the kubelet identity's AcrPull assignments on the registry (az aks update --detach-acr); nothing happens when there is none"),
		newACRUpdateCommand(ctx), newACRNetworkRuleCommand(ctx))
	return cmd
}

func newACRVerb(ctx context.Context, verb, short string) *cobra.Command {
	o := &acrOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}}
	cmd := &cobra.Command{
		Use:     verb + " --registry NAME --principal IDENTITY",
		Short:   short,
		Example: "  podid cloud acr " + verb + " --registry podidacr --principal kubelet",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Registry == "" || o.Principal == "" {
				return errors.New("--registry and --principal are required")
			}
			return runACR(ctx, verb, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Registry, "registry", "", "The registry: its name, login server (name.azurecr.io) or resource ID (az's --attach-acr).")
	cmd.Flags().StringVar(&o.Principal, "principal", "", "The kubelet identity: an identity or application name of the world, system/<machine>, a client ID or an object ID.")
	return cmd
}

func runACR(ctx context.Context, verb string, o *acrOptions, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*adminTimeout)
	defer cancel()
	a, st, err := connect(ctx, o.TargetOptions)
	if err != nil {
		return err
	}
	reg, err := findRegistry(st, o.Registry)
	if err != nil {
		return err
	}
	oid, err := resolveKubeletPrincipal(st, o.Principal)
	if err != nil {
		return err
	}
	g := embedded.AdminGrant{PrincipalID: oid, Role: acrPullRole, Scope: reg.ID}
	p := func(format string, args ...any) error { _, err := fmt.Fprintf(out, format+"\n", args...); return err }
	if verb == "attach" {
		if hasAcrPull(st, oid, reg.ID) {
			return p("registry %s is already attached: %s (object id %s) has AcrPull at %s", reg.Name, o.Principal, oid, reg.ID)
		}
		if err := a.do(ctx, http.MethodPost, "/admin/roleAssignments", g, nil); err != nil {
			return fmt.Errorf("attach registry %s: assign AcrPull to %s at %s: %w", reg.Name, oid, reg.ID, err)
		}
		if err := p("attached registry %s: %s (object id %s) has AcrPull at %s", reg.Name, o.Principal, oid, reg.ID); err != nil {
			return err
		}
		if reg.RoleAssignmentMode == embedded.RoleModeABAC {
			return p("note: %s uses rbac-abac mode, which ignores AcrPull; for pulls grant Container Registry Repository Reader: podid cloud role grant --principal %s --role \"Container Registry Repository Reader\" --scope registry/%s",
				reg.Name, oid, reg.Name)
		}
		return nil
	}
	var res struct {
		Removed int `json:"removed"`
	}
	if err := a.do(ctx, http.MethodDelete, "/admin/roleAssignments", g, &res); err != nil {
		return fmt.Errorf("detach registry %s: remove AcrPull of %s at %s: %w", reg.Name, oid, reg.ID, err)
	}
	if res.Removed == 0 {
		return p("registry %s was not attached: %s (object id %s) has no AcrPull at %s", reg.Name, o.Principal, oid, reg.ID)
	}
	return p("detached registry %s: removed %d AcrPull assignment(s) of %s (object id %s) at %s", reg.Name, res.Removed, o.Principal, oid, reg.ID)
}

// findRegistry finds a registry of st by name, login server or resource ID.
func findRegistry(st embedded.State, ref string) (*embedded.Registry, error) {
	name := ref
	if strings.HasPrefix(ref, "/") {
		name = ref[strings.LastIndex(ref, "/")+1:]
	} else if i := strings.Index(ref, "."); i > 0 {
		name = ref[:i]
	}
	for _, r := range st.Registries {
		if strings.EqualFold(r.Name, name) && (!strings.HasPrefix(ref, "/") || strings.EqualFold(r.ID, ref)) {
			return r, nil
		}
	}
	var names []string
	for _, r := range st.Registries {
		names = append(names, r.Name)
	}
	return nil, fmt.Errorf("--registry: ACR %s not found; the cloud has %s", ref, orNone(names))
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no registry (declare one under registries: in the world file)"
	}
	return strings.Join(names, ", ")
}

// resolveKubeletPrincipal is world.ResolvePrincipal that also takes the
// client ID of an identity or application, as azure.json names the
// kubelet identity.
func resolveKubeletPrincipal(st embedded.State, ref string) (string, error) {
	if _, err := uuid.Parse(ref); err == nil {
		for _, i := range st.Identities {
			if strings.EqualFold(i.ClientID, ref) {
				return i.PrincipalID, nil
			}
		}
		for _, a := range st.Applications {
			if strings.EqualFold(a.AppID, ref) {
				return a.ObjectID, nil
			}
		}
	}
	oid, err := world.ResolvePrincipal(st, ref)
	if err != nil {
		return "", fmt.Errorf("--principal: %w", err)
	}
	return oid, nil
}

// hasAcrPull reports whether oid has AcrPull at exactly scope.
func hasAcrPull(st embedded.State, oid, scope string) bool {
	def, ok := authz.LookupRole(authz.Builtins(), acrPullRole)
	if !ok {
		return false
	}
	for _, a := range st.RoleAssignments {
		if strings.EqualFold(a.PrincipalID, oid) && strings.EqualFold(a.RoleDefinitionID, def.ID) && strings.EqualFold(a.Scope, scope) {
			return true
		}
	}
	return false
}

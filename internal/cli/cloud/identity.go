package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/plan/runstate"
	"github.com/podid/podid/internal/wi"
)

// DefaultFederatedAudience is the audience az identity federated-credential
// create writes when --audiences is not given, and the one Azure AD expects
// from Kubernetes service-account tokens.
const DefaultFederatedAudience = wi.Audience

// ficOptions are the flags of `podid cloud identity federated-credential`,
// named as az identity federated-credential names them.
type ficOptions struct {
	TargetOptions
	Name, IdentityName, ResourceGroup, Issuer, Subject string
	Audiences                                          []string
}

func newIdentityCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Manage user-assigned identities of a running embedded cloud, as az identity does",
	}
	fic := &cobra.Command{
		Use:     "federated-credential",
		Aliases: []string{"fic"},
		Short:   "Create, show, list and delete federated identity credentials (az identity federated-credential)",
	}
	for _, verb := range []string{"create", "update", "show", "list", "delete"} {
		fic.AddCommand(newFICVerb(ctx, verb))
	}
	cmd.AddCommand(fic)
	return cmd
}

func newFICVerb(ctx context.Context, verb string) *cobra.Command {
	o := &ficOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}, Audiences: []string{DefaultFederatedAudience}}
	short := map[string]string{
		"create": "Create a federated credential: Azure AD then trusts tokens of --issuer for --subject and --audiences",
		"update": "Replace a federated credential's issuer, subject and audiences",
		"show":   "Print one federated credential",
		"list":   "List an identity's federated credentials",
		"delete": "Delete a federated credential (no error when it does not exist, as in Azure)",
	}[verb]
	cmd := &cobra.Command{
		Use:   verb,
		Short: short,
		Example: `  podid cloud identity federated-credential create --name kubernetes-federated-credential \
    --identity-name aks-aad-user-identity --resource-group MC_rg \
    --issuer "$(kubectl get --raw /.well-known/openid-configuration | jq -r .issuer)" \
    --subject system:serviceaccount:default:workload-identity-sa`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(verb); err != nil {
				return err
			}
			return runFIC(ctx, verb, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&o.IdentityName, "identity-name", "", "Name of the user-assigned identity.")
	fs.StringVarP(&o.ResourceGroup, "resource-group", "g", "", "Resource group of the identity; needed only when two groups hold an identity of that name.")
	if verb != "list" {
		fs.StringVarP(&o.Name, "name", "n", "", "Name of the federated credential: 3-120 letters, digits, '-' and '_', starting with a letter or digit.")
	}
	if verb == "create" || verb == "update" {
		fs.StringVar(&o.Issuer, "issuer", "", "The OIDC issuer URL whose tokens are trusted (a cluster's service-account issuer).")
		fs.StringVar(&o.Subject, "subject", "", "The token subject trusted, e.g. system:serviceaccount:NAMESPACE:NAME.")
		fs.StringSliceVar(&o.Audiences, "audiences", o.Audiences, "The token audience trusted; Azure allows exactly one.")
	}
	return cmd
}

func (o *ficOptions) validate(verb string) error {
	var missing []string
	if o.IdentityName == "" {
		missing = append(missing, "--identity-name")
	}
	if verb != "list" && o.Name == "" {
		missing = append(missing, "--name")
	}
	if verb == "create" || verb == "update" {
		if o.Issuer == "" {
			missing = append(missing, "--issuer")
		}
		if o.Subject == "" {
			missing = append(missing, "--subject")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s required", strings.Join(missing, ", "))
	}
	return nil
}

func runFIC(ctx context.Context, verb string, o *ficOptions, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*adminTimeout)
	defer cancel()
	a, st, err := connect(ctx, o.TargetOptions)
	if err != nil {
		return err
	}
	id, err := findIdentity(st, o.IdentityName, o.ResourceGroup)
	if err != nil {
		return err
	}
	body := embedded.AdminFederatedCredential{Identity: id, Name: o.Name, Issuer: o.Issuer, Subject: o.Subject, Audiences: o.Audiences}
	var res any
	switch verb {
	case "create", "update":
		var list []map[string]any
		if err := a.do(ctx, http.MethodGet, "/admin/federatedCredentials?identity="+url.QueryEscape(id), nil, &list); err != nil {
			return fmt.Errorf("list federated credentials of %s: %w", o.IdentityName, err)
		}
		exists := false
		for _, f := range list {
			if n, _ := f["name"].(string); strings.EqualFold(n, o.Name) {
				exists = true
			}
		}
		// az's create replaces an existing credential (ARM PUT), but a user
		// who says "update" of a missing one has a typo worth naming.
		if verb == "update" && !exists {
			return fmt.Errorf("identity %s has no federated credential %q: list them with podid cloud identity federated-credential list --identity-name %s", o.IdentityName, o.Name, o.IdentityName)
		}
		if err := a.do(ctx, http.MethodPut, "/admin/federatedCredentials", body, &res); err != nil {
			return fmt.Errorf("%s federated credential %s of %s: %w", verb, o.Name, o.IdentityName, err)
		}
	case "show", "list":
		var list []map[string]any
		if err := a.do(ctx, http.MethodGet, "/admin/federatedCredentials?identity="+url.QueryEscape(id), nil, &list); err != nil {
			return fmt.Errorf("list federated credentials of %s: %w", o.IdentityName, err)
		}
		res = list
		if verb == "show" {
			res = nil
			for _, f := range list {
				if n, _ := f["name"].(string); strings.EqualFold(n, o.Name) {
					res = f
				}
			}
			if res == nil {
				return fmt.Errorf("identity %s has no federated credential %q", o.IdentityName, o.Name)
			}
		}
	case "delete":
		var d struct {
			Deleted bool `json:"deleted"`
		}
		if err := a.do(ctx, http.MethodDelete, "/admin/federatedCredentials", body, &d); err != nil {
			return fmt.Errorf("delete federated credential %s of %s: %w", o.Name, o.IdentityName, err)
		}
		if !d.Deleted {
			_, err := fmt.Fprintf(out, "identity %s had no federated credential %q; nothing deleted\n", o.IdentityName, o.Name)
			return err
		}
		_, err := fmt.Fprintf(out, "deleted federated credential %q of identity %s\n", o.Name, o.IdentityName)
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// findIdentity resolves an identity name (and optional resource group) to
// its resource ID in st.
func findIdentity(st embedded.State, name, rg string) (string, error) {
	var found []*embedded.Identity
	for _, i := range st.Identities {
		if strings.EqualFold(i.Name, name) && (rg == "" || strings.EqualFold(i.ResourceGroup, rg)) {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 1:
		return found[0].ID, nil
	case 0:
		if rg != "" {
			return "", fmt.Errorf("no user-assigned identity %q in resource group %s", name, rg)
		}
		return "", fmt.Errorf("no user-assigned identity %q in the cloud", name)
	}
	groups := make([]string, 0, len(found))
	for _, i := range found {
		groups = append(groups, i.ResourceGroup)
	}
	return "", errors.New("identity " + name + " exists in resource groups " + strings.Join(groups, ", ") + ": name one with --resource-group")
}

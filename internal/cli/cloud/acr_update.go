package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/plan/runstate"
)

// acrUpdateOptions are the flags of `podid cloud acr update`, az acr
// update's network settings. Empty means leave the value alone.
type acrUpdateOptions struct {
	TargetOptions
	// Registry is a registry name, login server or resource ID.
	Registry string
	// SKU is Basic, Standard or Premium.
	SKU string
	// DefaultAction is Allow or Deny.
	DefaultAction string
	// PublicNetworkEnabled is true or false, as az spells it.
	PublicNetworkEnabled string
}

func newACRUpdateCommand(ctx context.Context) *cobra.Command {
	o := &acrUpdateOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}}
	cmd := &cobra.Command{
		Use:   "update --registry NAME [--sku SKU] [--default-action Allow|Deny] [--public-network-enabled true|false]",
		Short: "Change a registry's SKU and network access (az acr update); Azure's refusals apply, such as Deny only on Premium",
		Example: "  podid cloud acr update --registry podidacr --sku Premium --default-action Deny\n" +
			"  podid cloud acr update --registry podidacr --public-network-enabled false",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runACRUpdate(ctx, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Registry, "registry", "", "The registry: its name, login server (name.azurecr.io) or resource ID (az's -n).")
	cmd.Flags().StringVar(&o.SKU, "sku", "", "Basic, Standard or Premium; network rules and disabled public access need Premium. Empty keeps the SKU.")
	cmd.Flags().StringVar(&o.DefaultAction, "default-action", "", "Allow or Deny: what happens to a client no IP rule matches. Empty keeps it.")
	// A string, not a bool: pflag would read "--public-network-enabled false" as true plus a stray argument.
	cmd.Flags().StringVar(&o.PublicNetworkEnabled, "public-network-enabled", "", "true or false; false refuses every client whatever the IP rules say. Empty keeps it.")
	return cmd
}

// newACRNetworkRuleCommand is `podid cloud acr network-rule add|remove`.
func newACRNetworkRuleCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network-rule",
		Short: "Add or remove an IP rule of a registry's firewall (az acr network-rule add|remove)",
	}
	cmd.AddCommand(newACRNetworkRuleVerb(ctx, "add", "Allow an IPv4 address or CIDR range through the registry's firewall; nothing happens when the rule is there"),
		newACRNetworkRuleVerb(ctx, "remove", "Remove an IP rule from the registry's firewall; nothing happens when there is no such rule"))
	return cmd
}

// acrNetworkRuleOptions are the flags of `podid cloud acr network-rule add|remove`.
type acrNetworkRuleOptions struct {
	TargetOptions
	Registry  string
	IPAddress string
}

func newACRNetworkRuleVerb(ctx context.Context, verb, short string) *cobra.Command {
	o := &acrNetworkRuleOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}}
	cmd := &cobra.Command{
		Use:     verb + " --registry NAME --ip-address IP_OR_CIDR",
		Short:   short,
		Example: "  podid cloud acr network-rule " + verb + " --registry podidacr --ip-address 10.0.0.0/8",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Registry == "" || o.IPAddress == "" {
				return errors.New("--registry and --ip-address are required")
			}
			return runACRNetworkRule(ctx, verb == "add", o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Registry, "registry", "", "The registry: its name, login server (name.azurecr.io) or resource ID (az's -n).")
	cmd.Flags().StringVar(&o.IPAddress, "ip-address", "", "An IPv4 address (10.0.0.1) or CIDR range (10.0.0.0/8).")
	return cmd
}

// update turns the flags into the admin API's body, refusing what no
// registry could take before anything is sent.
func (o *acrUpdateOptions) update() (embedded.AdminRegistryUpdate, error) {
	if o.Registry == "" {
		return embedded.AdminRegistryUpdate{}, errors.New("--registry is required")
	}
	u := embedded.AdminRegistryUpdate{SKU: o.SKU, DefaultAction: o.DefaultAction}
	if o.PublicNetworkEnabled != "" {
		on, err := strconv.ParseBool(o.PublicNetworkEnabled)
		if err != nil {
			return u, fmt.Errorf("--public-network-enabled: %q is not true or false", o.PublicNetworkEnabled)
		}
		u.PublicNetworkAccess = map[bool]string{true: "Enabled", false: "Disabled"}[on]
	}
	if u == (embedded.AdminRegistryUpdate{}) {
		return u, errors.New("nothing to update: pass --sku, --default-action or --public-network-enabled")
	}
	return u, nil
}

func runACRUpdate(ctx context.Context, o *acrUpdateOptions, out io.Writer) error {
	u, err := o.update()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*adminTimeout)
	defer cancel()
	a, st, err := connect(ctx, o.TargetOptions)
	if err != nil {
		return err
	}
	before, err := findRegistry(st, o.Registry)
	if err != nil {
		return err
	}
	var after embedded.Registry
	if err := a.do(ctx, http.MethodPatch, "/admin/registries/"+url.PathEscape(before.Name), u, &after); err != nil {
		return fmt.Errorf("update registry %s: %w%s", before.Name, err, premiumHint(*before, u))
	}
	if networkSummary(*before) == networkSummary(after) {
		return line(out, "registry %s unchanged: %s", after.Name, networkSummary(after))
	}
	return line(out, "updated registry %s: %s", after.Name, networkSummary(after))
}

func runACRNetworkRule(ctx context.Context, add bool, o *acrNetworkRuleOptions, out io.Writer) error {
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
	method, verb := http.MethodPost, "add"
	if !add {
		method, verb = http.MethodDelete, "remove"
	}
	var res embedded.AdminNetworkRuleResult
	if err := a.do(ctx, method, "/admin/registries/"+url.PathEscape(reg.Name)+"/networkRules", embedded.AdminNetworkRule{IPAddress: o.IPAddress}, &res); err != nil {
		return fmt.Errorf("%s ip rule %s of registry %s: %w", verb, o.IPAddress, reg.Name, err)
	}
	summary := networkSummary(res.Registry)
	switch {
	case add && res.Changed:
		return line(out, "added ip rule %s to registry %s: %s", o.IPAddress, reg.Name, summary)
	case add:
		return line(out, "registry %s already has ip rule %s: %s", reg.Name, o.IPAddress, summary)
	case res.Changed:
		return line(out, "removed ip rule %s from registry %s: %s", o.IPAddress, reg.Name, summary)
	default:
		return line(out, "registry %s has no ip rule %s: %s", reg.Name, o.IPAddress, summary)
	}
}

// networkSummary is what decides who reaches the registry, in one phrase.
func networkSummary(r embedded.Registry) string {
	rules := "none"
	if len(r.IPRules) > 0 {
		rules = strings.Join(r.IPRules, ", ")
	}
	return fmt.Sprintf("sku %s, default action %s, public network access %s, ip rules %s", r.SKU, r.DefaultAction, r.PublicNetworkAccess, rules)
}

// premiumHint tells how to get past Azure's NetworkRuleSetNotSupported:
// it is empty unless the update leaves a non-Premium registry with Deny
// or with public access disabled.
func premiumHint(r embedded.Registry, u embedded.AdminRegistryUpdate) string {
	sku, action, access := pick(u.SKU, r.SKU), pick(u.DefaultAction, r.DefaultAction), pick(u.PublicNetworkAccess, r.PublicNetworkAccess)
	if strings.EqualFold(sku, "Premium") || (!strings.EqualFold(action, "Deny") && !strings.EqualFold(access, "Disabled")) {
		return ""
	}
	return "; network rules need the Premium SKU: add --sku Premium"
}

func pick(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func line(out io.Writer, format string, args ...any) error {
	_, err := fmt.Fprintf(out, format+"\n", args...)
	return err
}

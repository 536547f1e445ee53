package cloud

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
)

// NewCommand returns `cloud` with its `serve`, `role` and `vault-policy`
// subcommands.
func NewCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cloud",
		Short: "Run the embedded Azure identity cloud (AAD, IMDS, ARM, Key Vault)",
	}
	cmd.AddCommand(newServeCommand(ctx), newRoleCommand(ctx), newPolicyCommand(ctx), newIdentityCommand(ctx), newDeviceCommand(ctx))
	cmd.AddCommand(newACRCommand(ctx), newSPCommand(ctx))
	return cmd
}

func newServeCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the embedded cloud until interrupted",
		Long: `Serve starts a local Azure AD (v2 token endpoint, OIDC discovery, JWKS), one IMDS
listener per VM or VMSS instance, an ARM subset with real RBAC checks and one
Key Vault endpoint per vault, seeded from --world, and prints every endpoint and
the CA bundle clients must trust. State persists in --data-dir. Logs go to
stderr (--log-format, -v; -v=4 logs every request).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return run(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func run(ctx context.Context, o *Options, out, errOut io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := embedded.Options{Listen: o.Listen, StateDir: o.DataDir, Logger: o.Log.New(errOut)}
	if o.World != "" {
		w, err := world.Load(o.World)
		if err != nil {
			return err
		}
		if opts.Seed, err = w.State(); err != nil {
			return err
		}
	}
	for _, f := range o.TrustedCAs {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read trusted CA: %w", err)
		}
		opts.TrustedCAs = append(opts.TrustedCAs, b)
	}
	c, err := embedded.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("start embedded cloud: %w", err)
	}
	printEndpoints(out, c)
	<-ctx.Done()
	if err := c.Close(); err != nil {
		return fmt.Errorf("stop embedded cloud: %w", err)
	}
	_, _ = fmt.Fprintln(out, "embedded cloud stopped")
	return nil
}

func printEndpoints(out io.Writer, c *embedded.Cloud) {
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(out, format+"\n", args...) }
	st := c.Snapshot()
	p("embedded cloud ready")
	p("  CA bundle      %s", c.CAPath())
	p("  AAD authority  %s", c.AuthorityURL())
	for _, t := range st.Tenants {
		p("    tenant %-10s %s  issuer %s/%s/v2.0", t.Name, t.ID, c.URL(), t.ID)
	}
	p("  ARM            %s", c.ARMURL())
	for _, in := range c.Instances() {
		p("  IMDS           %-32s %s", in.Name, in.IMDSURL)
	}
	vaults := c.VaultURLs()
	names := make([]string, 0, len(vaults))
	for n := range vaults {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p("  Key Vault      %-32s %s", n, vaults[n])
	}
	p("  health         %s/healthz  %s/readyz", c.URL(), c.URL())
	p("  metrics        %s/metrics", c.URL())
	if tf := c.AdminTokenPath(); tf != "" {
		p("  admin API      %s/admin/ (Authorization: Bearer $(cat %s))", c.URL(), tf)
	} else {
		p("  admin API      %s/admin/ (token: none written, no --data-dir)", c.URL())
	}
}

package up

import (
	"context"
	"testing"

	"github.com/spf13/cobra"

	"github.com/podid/podid/internal/cli/daemon"
)

func TestChildrenGetDeclaredFlagsAndTheLogOptions(t *testing.T) {
	for _, mode := range []string{"federated", "node"} {
		t.Run(mode, func(t *testing.T) {
			o := NewOptions()
			o.StateDir, o.TokenMode = t.TempDir(), mode
			o.Log.Format, o.Log.Verbosity = "json", 2
			p, err := makePlan(o)
			if err != nil {
				t.Fatal(err)
			}
			rt := p.Placeholders()
			children := map[string]struct {
				cmd  *cobra.Command
				args []string
			}{
				"mic": {daemon.NewMicCommand(context.Background()), p.MicArgs(rt)},
				"nmi": {daemon.NewNMICommand(context.Background()), p.AgentArgs(p.Nodes[0], rt)},
			}
			for name, c := range children {
				if c.args[0] != name {
					t.Fatalf("%s args start with %q", name, c.args[0])
				}
				if err := c.cmd.ParseFlags(c.args[1:]); err != nil {
					t.Fatalf("podid %s does not take %v: %v", name, c.args, err)
				}
				fs := c.cmd.Flags()
				if f, _ := fs.GetString("log-format"); f != "json" {
					t.Errorf("%s --log-format %q, want json", name, f)
				}
				if v, _ := fs.GetInt("v"); v != 2 {
					t.Errorf("%s -v %d, want 2", name, v)
				}
			}
		})
	}
}

package daemon

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestNMICleanupIsTheUninstallStep(t *testing.T) {
	cmd := NewNMICommand(context.Background())
	cleanup, _, err := cmd.Find([]string{"cleanup"})
	if err != nil || cleanup.Name() != "cleanup" {
		t.Fatalf("nmi has no cleanup subcommand: %v", err)
	}
	if !strings.Contains(cleanup.Short, "uninstall") || !strings.Contains(cleanup.Long, "iptables") {
		t.Fatalf("cleanup help does not say it is the uninstall step removing iptables rules: %q", cleanup.Short)
	}
}

func TestDaemonsRefuseABadLogFormatBeforeDoingAnything(t *testing.T) {
	cases := map[string][]string{
		"mic":         {"--log-format=xml"},
		"nmi":         {"--log-format=xml"},
		"nmi cleanup": {"cleanup", "--log-format=xml"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := NewNMICommand(context.Background())
			if name == "mic" {
				cmd = NewMicCommand(context.Background())
			}
			var errOut bytes.Buffer
			cmd.SetErr(&errOut)
			cmd.SetArgs(args)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), "want text or json") {
				t.Fatalf("error %v, want the log format refused", err)
			}
			if errOut.Len() != 0 {
				t.Fatalf("wrote %q before refusing", errOut.String())
			}
		})
	}
}

package up

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// valueFor returns an argument that sets f to something other than its
// default, by flag type. A flag of a new type fails the test until it is
// added here.
func valueFor(t *testing.T, f *pflag.Flag) string {
	t.Helper()
	switch f.Value.Type() {
	case "string":
		return "value of " + f.Name
	case "int":
		return "7"
	case "bool":
		if f.DefValue == "true" {
			return "false"
		}
		return "true"
	case "duration":
		return "3m0s"
	case "stringSlice":
		return "first,second with space"
	default:
		t.Fatalf("flag --%s has type %s: teach valueFor a value of that type", f.Name, f.Value.Type())
		return ""
	}
}

func TestDetachPassesEveryFlagToTheSupervisor(t *testing.T) {
	parent := NewCommand(context.Background()).Flags()
	var set []string
	parent.VisitAll(func(f *pflag.Flag) {
		if f.Name == "supervise" {
			return
		}
		if err := parent.Set(f.Name, valueFor(t, f)); err != nil {
			t.Fatalf("set --%s: %v", f.Name, err)
		}
		set = append(set, f.Name)
	})
	args := supervisorArgs(parent)
	if len(args) < 2 || args[0] != "up" || args[1] != "--supervise" {
		t.Fatalf("args %q do not start with up --supervise", args)
	}
	child := NewCommand(context.Background()).Flags()
	if err := child.Parse(args[1:]); err != nil {
		t.Fatalf("the supervisor cannot parse %q: %v", args, err)
	}
	if child.Changed("detach") {
		t.Error("--detach reached the supervisor, which would detach again")
	}
	if v, _ := child.GetBool("supervise"); !v {
		t.Error("the supervisor lacks --supervise")
	}
	for _, name := range set {
		if name == "detach" {
			continue
		}
		if got, want := child.Lookup(name).Value.String(), parent.Lookup(name).Value.String(); got != want {
			t.Errorf("--%s reaches the supervisor as %q, want %q", name, got, want)
		}
	}
	if len(set) < 15 {
		t.Fatalf("only %d flags checked: %v", len(set), set)
	}
}

func TestDetachPassesOnlyTheFlagsTheUserSet(t *testing.T) {
	cmd := NewCommand(context.Background())
	if err := cmd.Flags().Parse([]string{"--detach", "--nodes=1", "--skip-step=vault-access", "-v", "1"}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(supervisorArgs(cmd.Flags()), " ")
	if want := "up --supervise --nodes=1 --skip-step=vault-access --v=1"; got != want {
		t.Fatalf("args %q, want %q", got, want)
	}
}

package up

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestUpRefusesABadNodeRegistry(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"a mapping without URL names the form": {[]string{"--real-nodes", "1", "--node-registry", "hub.private.test"}, "--node-registry: registry mapping \"hub.private.test\": want HOST=URL"},
		"a URL without scheme":                 {[]string{"--real-nodes", "1", "--node-registry", "hub.private.test=127.0.0.1:5001"}, "is not a registry URL"},
		"no real node to map it on":            {[]string{"--node-registry", "hub.private.test=http://127.0.0.1:5001"}, "add --real-nodes 1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			_, err := execute(t, append([]string{"--state-dir", dir, "--dry-run"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// The supervisor --detach starts gets each mapping as it was given, so a
// detached run maps the same registries.
func TestDetachPassesNodeRegistriesOn(t *testing.T) {
	o := NewOptions()
	fs := pflag.NewFlagSet("up", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse([]string{"--real-nodes=1", "--node-registry=a.test=http://127.0.0.1:1", "--node-registry=b.test=http://127.0.0.1:2", "--detach"}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(supervisorArgs(fs), " ")
	if !strings.Contains(got, "--node-registry=a.test=http://127.0.0.1:1,b.test=http://127.0.0.1:2") {
		t.Fatalf("supervisor args %q lack both mappings", got)
	}
}

package up

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// execute runs `up args...` and returns stdout and the error.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestDryRunMatchesGolden(t *testing.T) {
	cases := map[string][]string{
		"dryrun-default.golden":    {},
		"dryrun-real-nodes.golden": {"--real-nodes=1"},
		"dryrun-signin.golden": {"--aad-admin-group-object-ids=ad1a5e0c-2f4b-4d6a-8e1c-9b7f3a5d0c03", "--enable-azure-rbac",
			"--disable-local-accounts", "--no-demo"},
		"dryrun-example-world-fixed-ports.golden": {"--nodes=1", "--world=../../../examples/world.yaml",
			"--mic-app=ci-deployer", "--apiserver-port=6443", "--cloud-port=8443"},
	}
	for golden, extra := range cases {
		t.Run(golden, func(t *testing.T) {
			dir := t.TempDir()
			out, err := execute(t, append([]string{"--dry-run", "--state-dir", dir}, extra...)...)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(out, dir, "$STATE_DIR")
			path := filepath.Join("testdata", golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Fatalf("dry run differs from %s (go test -update if intended):\n%s", path, got)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("--dry-run wrote %d entries into the state folder", len(entries))
			}
		})
	}
}

func TestUpRefusesBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(bad, []byte("tenants:\n  - id: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args []string
		want string
	}{
		"a world file with a bad field names its line": {[]string{"--world", bad}, "world.yaml:2: tenants[0].id: \"nope\" is not a GUID"},
		"a missing world file":                         {[]string{"--world", "/nonexistent/w.yaml"}, "read world file"},
		"more nodes than the VMSS has":                 {[]string{"--nodes", "9"}, "scale set aks-system-12583646-vmss has 8 instances"},
		"zero nodes":                                   {[]string{"--nodes", "0"}, "--nodes must be at least 1"},
		"detach with dry-run":                          {[]string{"--detach", "--dry-run"}, "do not go together"},
		"an admin group by name":                       {[]string{"--aad-admin-group-object-ids", "aks-admins"}, "is not a group object ID"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			_, err := execute(t, append([]string{"--state-dir", dir}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("a refused start created the state folder")
			}
		})
	}
}

func TestUpReportsATakenPortBeforeStartingAnything(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	_, err = execute(t, "--state-dir", dir, "--apiserver-port", port, "--no-demo")
	want := "kube-apiserver port 127.0.0.1:" + port + " is taken"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--apiserver-port") {
		t.Fatalf("error %v, want %q and the flag to change", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "up.json")); err == nil {
		t.Fatal("the run record outlived a failed start")
	}
}

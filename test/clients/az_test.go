package clients

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// azCloud is how az CLI in the pod reaches the embedded cloud: Resource
// Manager and the authority at https://localhost:<port>/ (the pod's hosts
// file maps localhost to the node, where a forwarder relays to the cloud),
// trusting the cloud's CA.
type azCloud struct {
	url    string // "https://localhost:<port>"
	caFile string
}

// azScript registers and selects the embedded cloud in a fresh config
// directory, logs in with the managed identity ($1: "" or an ID for
// --username), checks that the login found the subscription ($2) and prints
// a Key Vault token.
const azScript = `
set -e
az cloud register --name podid --profile latest \
  --endpoint-resource-manager "$AZ_CLOUD_URL/" \
  --endpoint-active-directory "$AZ_CLOUD_URL" \
  --endpoint-active-directory-resource-id https://management.core.windows.net/ \
  --endpoint-active-directory-graph-resource-id https://graph.windows.net/ \
  --endpoint-management https://management.core.windows.net/ \
  --suffix-keyvault-dns .vault.azure.net
az cloud set --name podid
if [ -n "$1" ]; then
  sub=$(az login --identity --username "$1" --query '[0].id' -o tsv)
else
  sub=$(az login --identity --query '[0].id' -o tsv)
fi
if [ "$sub" != "$2" ]; then
  echo "ERROR az login found subscription '$sub', want '$2'"
  exit 1
fi
tok=$(az account get-access-token --resource "$3" --query accessToken -o tsv)
echo "TOKEN $tok"
`

// azClient is az CLI (Debian's azure-cli); cloud is filled in once the node
// is up. Each run gets its own AZURE_CONFIG_DIR.
func azClient(t *testing.T, cloud *azCloud) imdsClient {
	az, err := exec.LookPath("az")
	if err != nil {
		t.Fatalf("needs az (Debian's azure-cli): %v", err)
	}
	version := "?"
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "azure-cli").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	core, err := azCoreVersion(az)
	if err != nil {
		t.Logf("%v; taking the package version", err)
		core, _, _ = strings.Cut(version, "-")
	}
	return imdsClient{name: "az CLI", version: version,
		ask: func(ctx context.Context, ns string, sel selector, value string) *exec.Cmd {
			dir, err := os.MkdirTemp("", "podid-az-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			// With an empty version cache, az's first command asks GitHub for
			// the latest release (a DNS lookup that times out in the pod);
			// a current cache for the installed version skips that.
			check := fmt.Sprintf(`{"versions": {"core": {"local": %q}, "azure-cli": {"local": %q}}, "update_time": %q}`,
				core, core, time.Now().Format("2006-01-02 15:04:05.000000"))
			if err := os.WriteFile(filepath.Join(dir, "versionCheck.json"), []byte(check), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := inPod(ctx, ns, "/bin/sh", "-c", azScript, "az-cell", value, subscriptionID,
				strings.TrimSuffix(scope, "/.default"))
			cmd.Env = podEnv(
				"PATH="+filepath.Dir(az)+":/usr/bin:/bin",
				"AZ_CLOUD_URL="+cloud.url,
				"AZURE_CONFIG_DIR="+dir,
				"REQUESTS_CA_BUNDLE="+cloud.caFile,
				"AZURE_CORE_COLLECT_TELEMETRY=false",
				"AZURE_CORE_ONLY_SHOW_ERRORS=true",
				"AZURE_CORE_NO_COLOR=true",
				"AZURE_CORE_DISABLE_CONFIRM_PROMPT=true",
			)
			return cmd
		}}
}

// podHosts makes `ip netns exec ns` see a hosts file naming the node's
// address localhost, the name on the cloud's certificate; ip bind-mounts
// /etc/netns/<ns>/hosts over /etc/hosts.
func podHosts(t *testing.T, ns string, node netip.Addr) {
	t.Helper()
	dir := filepath.Join("/etc/netns", ns)
	if _, err := os.Stat("/etc/netns"); os.IsNotExist(err) {
		t.Cleanup(func() { _ = os.Remove("/etc/netns") }) // only if empty
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(fmt.Sprintf("%s localhost\n", node)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// azCoreVersion is the version of az's azure.cli.core, read with the
// Python of az's #! line.
func azCoreVersion(az string) (string, error) {
	raw, err := os.ReadFile(az)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	interp := strings.Fields(strings.TrimPrefix(first, "#!"))
	if !strings.HasPrefix(first, "#!") || len(interp) == 0 {
		return "", fmt.Errorf("%s has no #! line", az)
	}
	args := append(interp[1:], "-c", "from azure.cli.core import __version__; print(__version__)")
	out, err := exec.Command(interp[0], args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("read az's azure.cli.core version: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

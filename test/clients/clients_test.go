package clients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// scope is what every client asks a token for.
const scope = "https://vault.azure.net/.default"

// A selector names the identity the way a client's options do; its value
// is filled in from the pod's identity.
type selector string

const (
	noID     selector = "none"
	clientID selector = "client_id"
	objectID selector = "object_id"
	msiResID selector = "msi_res_id"
)

// cellLimit bounds one client run, retries included.
const cellLimit = 2 * time.Minute

var selectors = []selector{noID, clientID, objectID, msiResID}

// imdsClient is one real client library. Its ask runs a program in the pod
// namespace ns that asks IMDS for a token for scope, selecting the identity
// by sel with value; the program prints "TOKEN <access token>" on success
// and anything else on failure.
type imdsClient struct {
	name    string
	version string
	ask     func(ctx context.Context, ns string, sel selector, value string) *exec.Cmd
}

// podEnv is the whole environment of a client program: nothing from the
// test's own environment, so no AZURE_* variable (and in particular no
// AZURE_POD_IDENTITY_AUTHORITY_HOST) changes how it finds IMDS.
func podEnv(extra ...string) []string {
	return append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + os.TempDir()}, extra...)
}

func inPod(ctx context.Context, ns string, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// goClientEnv makes the test binary play the Go client: its value is
// "<selector> <value>".
const goClientEnv = "PODID_CLIENTS_GO"

func goClient(t *testing.T) imdsClient {
	// A test binary carries no module versions; go list reads go.mod.
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}",
		"github.com/Azure/azure-sdk-for-go/sdk/azidentity",
		"github.com/AzureAD/microsoft-authentication-library-for-go").Output()
	if err != nil {
		t.Fatalf("go list the azidentity and MSAL Go versions: %v", err)
	}
	v := strings.Fields(string(out))
	version := strings.Join(v, " / MSAL ")
	return imdsClient{name: "azidentity (Go)", version: version,
		ask: func(ctx context.Context, ns string, sel selector, value string) *exec.Cmd {
			cmd := inPod(ctx, ns, os.Args[0], "-test.run=^$")
			cmd.Env = podEnv(goClientEnv + "=" + string(sel) + " " + value)
			return cmd
		}}
}

// runGoClient is the Go client program: ManagedIdentityCredential with the
// selector in spec, default options otherwise.
func runGoClient(spec string) int {
	sel, value, _ := strings.Cut(spec, " ")
	opts := &azidentity.ManagedIdentityCredentialOptions{}
	switch selector(sel) {
	case clientID:
		opts.ID = azidentity.ClientID(value)
	case objectID:
		opts.ID = azidentity.ObjectID(value)
	case msiResID:
		opts.ID = azidentity.ResourceID(value)
	}
	cred, err := azidentity.NewManagedIdentityCredential(opts)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	fmt.Println("TOKEN", tok.Token)
	return 0
}

// python is Debian's /usr/bin/python3, whose azure-identity comes from
// python3-azure (not the pyenv python3 on PATH).
const python = "/usr/bin/python3"

const pythonProgram = `
import sys
from azure.identity import ManagedIdentityCredential
sel, value = sys.argv[1], sys.argv[2]
kw = {}
if sel == "client_id":
    kw["client_id"] = value
elif sel in ("object_id", "msi_res_id"):
    kw["identity_config"] = {sel: value}
try:
    tok = ManagedIdentityCredential(**kw).get_token(sys.argv[3])
except Exception as e:
    print("ERROR", type(e).__name__, e)
    sys.exit(1)
print("TOKEN", tok.token)
`

func pythonClient(t *testing.T) imdsClient {
	out, err := exec.Command(python, "-c", "import azure.identity; print(azure.identity.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("%s has no azure.identity (install Debian's python3-azure): %v\n%s", python, err, out)
	}
	return imdsClient{name: "azure-identity (Python)", version: strings.TrimSpace(string(out)),
		ask: func(ctx context.Context, ns string, sel selector, value string) *exec.Cmd {
			cmd := inPod(ctx, ns, python, "-c", pythonProgram, string(sel), value, scope)
			cmd.Env = podEnv()
			return cmd
		}}
}

const jsProgram = `
const { ManagedIdentityCredential } = require("@azure/identity");
const [sel, value, scope] = process.argv.slice(1);
const opts = { none: undefined, client_id: { clientId: value }, object_id: { objectId: value }, msi_res_id: { resourceId: value } }[sel];
const cred = opts === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential(opts);
cred.getToken(scope).then(
  (tok) => console.log("TOKEN " + tok.token),
  (err) => { console.log("ERROR " + err.name + " " + err.message); process.exit(1); });
`

// jsClient installs @azure/identity 4.x into ~/.cache/podid/npm when it is
// not there yet.
func jsClient(t *testing.T) imdsClient {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("needs node (Debian's nodejs): %v", err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".cache", "podid", "npm")
	pkg := filepath.Join(dir, "node_modules", "@azure", "identity", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("installing @azure/identity@4 into %s", dir)
		cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "@azure/identity@4")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install @azure/identity@4 (needs npm, Debian's npm): %v\n%s", err, out)
		}
	}
	raw, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	version := packageVersion(raw)
	if raw, err := os.ReadFile(filepath.Join(dir, "node_modules", "@azure", "msal-node", "package.json")); err == nil {
		version += " / msal-node " + packageVersion(raw)
	}
	return imdsClient{name: "@azure/identity (JS)", version: version,
		ask: func(ctx context.Context, ns string, sel selector, value string) *exec.Cmd {
			cmd := inPod(ctx, ns, node, "-e", jsProgram, "--", string(sel), value, scope)
			cmd.Env = podEnv("NODE_PATH=" + filepath.Join(dir, "node_modules"))
			return cmd
		}}
}

// packageVersion reads "version" from a package.json.
func packageVersion(raw []byte) string {
	if m := regexp.MustCompile(`"version":\s*"([^"]+)"`).FindSubmatch(raw); m != nil {
		return string(m[1])
	}
	return "?"
}

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/testenv"
)

// Objects of the built-in world that sign in.
const (
	adminsGroupID = "ad1a5e0c-2f4b-4d6a-8e1c-9b7f3a5d0c03"
	rbacReader    = "Azure Kubernetes Service RBAC Reader"
	azureDenied   = "User does not have access to the resource in Azure. Update role assignment to allow access."
	// kubeloginVersion is the newest kubelogin this Go toolchain builds
	// (v0.2.22 wants go 1.26.10).
	kubeloginVersion = "v0.2.21"
)

var deviceCodeRE = regexp.MustCompile(`enter the code ([A-Z0-9]+) to authenticate`)

// signInRun is one kubectl run that may have signed someone in.
type signInRun struct {
	out      string // stdout and stderr
	err      error
	prompted bool // the exec plugin printed a device code
	took     time.Duration
}

// kubectlSignIn runs kubectl with kubeconfig and env; when its credential
// plugin prints a device code on stderr, it approves the code as upn with
// podid cloud device approve, as the person would on the sign-in page.
func kubectlSignIn(t *testing.T, dir, kubeconfig, upn string, env []string, args ...string) signInRun {
	t.Helper()
	bin, err := exec.Command("bash", "../../hack/k8s-bin.sh", "kubectl").Output()
	if err != nil {
		t.Fatalf("build kubectl: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(strings.TrimSpace(string(bin)), "kubectl"), args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), env...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var r signInRun
	var lines []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if m := deviceCodeRE.FindStringSubmatch(sc.Text()); m != nil {
				r.prompted = true
				if a := run(t, nil, "cloud", "device", "approve", "--state-dir", dir, "--user", upn, "--code", m[1]); a.err != nil {
					t.Errorf("approve %s as %s: %v\n%s", m[1], upn, a.err, a.stderr)
				}
			}
		}
	}()
	wg.Wait()
	r.err = cmd.Wait()
	r.out, r.took = stdout.String()+strings.Join(lines, "\n"), time.Since(start)
	return r
}

// The sign-in, as an operator of an AKS cluster with managed Azure
// AD, Azure RBAC and local accounts disabled does it: get-credentials,
// kubectl signing in with device code through podid get-token, the admin
// group allowed, bob refused until an AKS role is granted to him, a
// service principal signing in with its secret, and --admin refused.
func TestPeopleSignInWithAzureAD(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
	})
	up := must(t, "up", "--detach", "--state-dir", dir, "--nodes=1", "--aad-admin-group-object-ids", adminsGroupID,
		"--enable-azure-rbac", "--disable-local-accounts")
	rec := readRecord(t, dir)
	t.Logf("podid up --detach with sign-in took %s (ready after %.1fs)", up.took.Round(time.Millisecond), rec.StartSeconds)
	if !strings.Contains(up.stdout, "podid get-credentials --state-dir "+dir) || strings.Contains(up.stdout, "export KUBECONFIG") {
		t.Fatalf("podid up with local accounts disabled should point at get-credentials, not an admin kubeconfig:\n%s", up.stdout)
	}

	t.Run("the admin credentials are refused with AKS's message", func(t *testing.T) {
		r := run(t, nil, "get-credentials", "--admin", "--state-dir", dir, "-f", filepath.Join(dir, "admin.kubeconfig"))
		want := "Getting static credential isn't allowed because this cluster is set to disable local accounts."
		if r.err == nil || !strings.Contains(r.stderr, want) {
			t.Fatalf("get-credentials --admin: err %v stderr %q; want %q", r.err, r.stderr, want)
		}
		for _, f := range []string{"kubeconfig", "admin.kubeconfig"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Fatalf("%s exists in the state folder with local accounts disabled", f)
			}
		}
	})

	user := filepath.Join(dir, "user.kubeconfig")
	if out := must(t, "get-credentials", "--state-dir", dir, "-f", user).stdout; !strings.Contains(out, `Merged "aks-poc" as current context in `+user) {
		t.Fatalf("get-credentials printed %q", out)
	}

	t.Run("alice of the admin group signs in with device code and may list pods", func(t *testing.T) {
		r := kubectlSignIn(t, dir, user, "alice@contoso.com", nil, "get", "pods", "-A")
		if r.err != nil || !r.prompted || !strings.Contains(r.out, "az-keyvault-reader-test-0") {
			t.Fatalf("kubectl get pods -A as alice: err %v, prompted %v:\n%s", r.err, r.prompted, r.out)
		}
		t.Logf("alice's first kubectl, device code approved by the test: %s", r.took.Round(time.Millisecond))
		again := kubectlSignIn(t, dir, user, "alice@contoso.com", nil, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
		if again.err != nil || again.prompted || !strings.Contains(again.out, "alice@contoso.com") || !strings.Contains(again.out, adminsGroupID) {
			t.Fatalf("kubectl auth whoami as alice: err %v, prompted again %v:\n%s", again.err, again.prompted, again.out)
		}
		t.Logf("alice's second kubectl, token from the cache: %s; whoami: %s", again.took.Round(time.Millisecond), again.out)
	})

	// Signing out: the next person's sign-in starts with an empty cache.
	if err := os.RemoveAll(plan.TokenCacheDir(dir)); err != nil {
		t.Fatal(err)
	}

	t.Run("bob is refused until an AKS RBAC role is granted to him", func(t *testing.T) {
		r := kubectlSignIn(t, dir, user, "bob@contoso.com", nil, "get", "pods", "-A")
		want := `Error from server (Forbidden): pods is forbidden: User "bob@contoso.com" cannot list resource "pods" in API group "" at the cluster scope: ` + azureDenied
		if r.err == nil || !r.prompted || !strings.Contains(r.out, want) {
			t.Fatalf("kubectl get pods -A as bob: err %v prompted %v:\n%s\nwant %q", r.err, r.prompted, r.out, want)
		}
		t.Logf("bob refused: %s", lastLines(r.out, 1))
		granted := time.Now()
		must(t, "cloud", "role", "grant", "--state-dir", dir, "--principal", "bob@contoso.com", "--role", rbacReader, "--scope", "managedCluster/aks-poc")
		waitFor(t, "bob to list pods", func(context.Context) error {
			if r := kubectlSignIn(t, dir, user, "bob@contoso.com", nil, "get", "pods", "-A"); r.err != nil {
				return errorOf(r)
			}
			return nil
		})
		t.Logf("bob may list pods %s after the grant", time.Since(granted).Round(time.Millisecond))
		if r := kubectlSignIn(t, dir, user, "bob@contoso.com", nil, "get", "secrets", "-A"); r.err == nil || !strings.Contains(r.out, azureDenied) {
			t.Fatalf("the reader role let bob list secrets: %v\n%s", r.err, r.out)
		}
	})

	t.Run("a service principal signs in with its secret and is its object ID", func(t *testing.T) {
		secret, err := os.ReadFile(rec.DoctorSecretFile)
		if err != nil {
			t.Fatal(err)
		}
		spn := []string{"AAD_LOGIN_METHOD=spn", "AAD_SERVICE_PRINCIPAL_CLIENT_ID=" + rec.DoctorClientID, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=" + string(secret)}
		r := kubectlSignIn(t, dir, user, "", spn, "get", "pods", "-A")
		m := regexp.MustCompile(`pods is forbidden: User "([0-9a-f-]{36})" cannot list`).FindStringSubmatch(r.out)
		if r.err == nil || r.prompted || m == nil || strings.Contains(r.out, string(secret)) {
			t.Fatalf("kubectl as the service principal: err %v prompted %v:\n%s", r.err, r.prompted, r.out)
		}
		must(t, "cloud", "role", "grant", "--state-dir", dir, "--principal", plan.DoctorApp, "--role", rbacReader, "--scope", "managedCluster/aks-poc")
		waitFor(t, "the service principal to list pods", func(context.Context) error {
			if r := kubectlSignIn(t, dir, user, "", spn, "get", "pods", "-A"); r.err != nil {
				return errorOf(r)
			}
			return nil
		})
		t.Logf("service principal %s (object id %s) may list pods after the grant", rec.DoctorClientID, m[1])
	})

	t.Run("kubelogin signs alice in with the same arguments", func(t *testing.T) {
		tools := kubelogin(t)
		kl := filepath.Join(dir, "kubelogin.kubeconfig")
		must(t, "get-credentials", "--kubelogin", "--state-dir", dir, "-f", kl)
		env := []string{"PATH=" + tools + string(os.PathListSeparator) + os.Getenv("PATH"), "KUBECACHEDIR=" + t.TempDir()}
		r := kubectlSignIn(t, dir, kl, "alice@contoso.com", env, "get", "pods", "-A")
		if r.err != nil || !r.prompted || !strings.Contains(r.out, "az-keyvault-reader-test-0") {
			t.Fatalf("kubectl with kubelogin as alice: err %v prompted %v:\n%s", r.err, r.prompted, r.out)
		}
		t.Logf("alice signed in through kubelogin %s in %s", kubeloginVersion, r.took.Round(time.Millisecond))
	})
}

// errorOf is a failed kubectl run as an error.
func errorOf(r signInRun) error { return fmt.Errorf("%w: %s", r.err, lastLines(r.out, 2)) }

// kubelogin returns the folder holding kubelogin, built once from the Go
// module proxy into ~/.cache/podid/tools.
func kubelogin(t *testing.T) string {
	t.Helper()
	return filepath.Dir(goTool(t, "kubelogin", "github.com/Azure/kubelogin@"+kubeloginVersion, nil))
}

// goTool returns the path of the named tool, built once with go install
// from the Go module proxy into ~/.cache/podid/tools; current, when not
// nil, says whether a binary already there is the wanted version. The
// test skips when the tool cannot be built, except under CI.
func goTool(t *testing.T, name, pkgAtVersion string, current func(bin string) bool) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		testenv.Missing(t, "no cache folder for %s: %v", name, err)
	}
	tools := filepath.Join(cache, "podid", "tools")
	bin := filepath.Join(tools, name)
	if _, err := os.Stat(bin); err == nil && (current == nil || current(bin)) {
		return bin
	}
	cmd := exec.Command("go", "install", pkgAtVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+tools)
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot build %s: %v\n%s", pkgAtVersion, err, out)
	}
	return bin
}

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/signin"
	"github.com/podid/podid/internal/testenv"
)

// The world's cluster as az names it.
const (
	azClusterGroup = "rg-aks-poc-container"
	azCluster      = "aks-poc"
	azTenant       = "2e319086-9a26-46a3-865f-615bed576786"
	clusterUser    = "Azure Kubernetes Service Cluster User Role"
	clusterAdmin   = "Azure Kubernetes Service Cluster Admin Role"
)

// Operator sign-in with az CLI as a real client (issue 17, item 6): the
// embedded cloud registered with az cloud register; a build agent signs in
// with its secret and is refused the kubeconfig without an AKS role; a
// person of the world signs in with device code, gets the kubeconfig with
// az aks get-credentials (the admin one refused, local accounts being
// disabled) and lists namespaces through kubelogin with it.
func TestAzCLISignIn(t *testing.T) {
	az := newAzCLI(t)
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
	})
	up := must(t, "up", "--detach", "--state-dir", dir, "--aad-admin-group-object-ids", adminsGroupID, "--disable-local-accounts")
	rec := readRecord(t, dir)
	t.Logf("podid up --detach took %s; az %s (azure-cli-core %s)", up.took.Round(time.Millisecond), az.version, az.core)
	// podid up prints what az needs: the proxy, the CA, the registration.
	if rec.SignIn == nil || rec.SignIn.AzureCLIProxy == "" {
		t.Fatalf("podid up recorded no proxy for az CLI: %+v", rec.SignIn)
	}
	for _, want := range []string{"export " + strings.Join(plan.AzureCLIEnv(rec.CloudCA, rec.SignIn.AzureCLIProxy), " "),
		"az " + strings.Join(plan.AzureCLIRegisterArgs(rec.CloudURL), " "),
		"az aks get-credentials -g " + azClusterGroup + " -n " + azCluster} {
		if !strings.Contains(up.stdout, want) {
			t.Fatalf("podid up's next steps lack %q:\n%s", want, up.stdout)
		}
	}

	t.Run("a build agent signs in with its secret, sees its subscriptions and is refused the kubeconfig without an AKS role", func(t *testing.T) {
		s := az.session(t, rec)
		secret, err := os.ReadFile(rec.DoctorSecretFile)
		if err != nil {
			t.Fatal(err)
		}
		login := s.must("login", "--service-principal", "-u", rec.DoctorClientID, "-p", string(secret), "--tenant", azTenant, "-o", "none")
		subs := s.must("account", "list", "--query", "[].name", "-o", "tsv")
		if got := strings.Fields(subs.stdout); !slices.Contains(got, "aks-poc") || !slices.Contains(got, "shared") {
			t.Fatalf("az account list as the build agent (Reader on both subscriptions) shows %q", got)
		}
		t.Logf("az login --service-principal took %s; az account list: %s", login.took.Round(time.Millisecond), strings.Join(strings.Fields(subs.stdout), ", "))

		kc := filepath.Join(t.TempDir(), "config")
		r := s.run("aks", "get-credentials", "-g", azClusterGroup, "-n", azCluster, "--file", kc)
		want := "does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'"
		if r.err == nil || !strings.Contains(r.stderr, "(AuthorizationFailed)") || !strings.Contains(r.stderr, want) {
			t.Fatalf("az aks get-credentials without a role: err %v\n%s", r.err, r.stderr)
		}
		if _, err := os.Stat(kc); err == nil {
			t.Fatalf("a refused az aks get-credentials wrote %s", kc)
		}
		t.Logf("refused: %s", lastLines(r.stderr, 2))
	})

	t.Run("bob, with no role anywhere, signs in but az finds no subscription", func(t *testing.T) {
		s := az.session(t, rec)
		r := s.deviceCode(dir, "bob@contoso.com", "login", "--use-device-code", "--tenant", azTenant, "-o", "none")
		if r.err == nil || !r.prompted || !strings.Contains(r.stderr, "No subscriptions found for bob@contoso.com.") {
			t.Fatalf("az login as bob: err %v prompted %v\n%s", r.err, r.prompted, r.stderr)
		}
	})

	t.Run("alice of the admin group signs in with device code, gets the kubeconfig and lists namespaces through kubelogin", func(t *testing.T) {
		must(t, "cloud", "role", "grant", "--state-dir", dir, "--principal", "alice@contoso.com", "--role", clusterUser, "--scope", "managedCluster/"+azCluster)
		s := az.session(t, rec)
		login := s.deviceCode(dir, "alice@contoso.com", "login", "--use-device-code", "--tenant", azTenant, "-o", "none")
		if login.err != nil || !login.prompted {
			t.Fatalf("az login --use-device-code as alice: err %v prompted %v\n%s", login.err, login.prompted, login.stderr)
		}
		subs := s.must("account", "list", "--query", "[].[name,user.name]", "-o", "tsv")
		if !strings.Contains(subs.stdout, "aks-poc\talice@contoso.com") {
			t.Fatalf("az account list as alice (AKS Cluster User on aks-poc): %q", subs.stdout)
		}
		t.Logf("az login --use-device-code, code approved by the test, took %s; az account list: %s", login.took.Round(time.Millisecond), strings.TrimSpace(subs.stdout))

		kc := filepath.Join(t.TempDir(), "config")
		creds := s.must("aks", "get-credentials", "-g", azClusterGroup, "-n", azCluster, "--file", kc)
		if out := creds.stdout + creds.stderr; !strings.Contains(out, `Merged "aks-poc" as current context in `+kc) {
			t.Fatalf("az aks get-credentials printed %q", out)
		}
		t.Logf("az aks get-credentials took %s: %s", creds.took.Round(time.Millisecond), strings.TrimSpace(creds.stdout+creds.stderr))
		userEntryIsKubelogin(t, kc, rec)

		// The admin kubeconfig needs its own role; with it, AKS still
		// refuses, local accounts being disabled.
		r := s.run("aks", "get-credentials", "--admin", "-g", azClusterGroup, "-n", azCluster, "--file", kc)
		if r.err == nil || !strings.Contains(r.stderr, "listClusterAdminCredential/action") {
			t.Fatalf("az aks get-credentials --admin without the admin role: err %v\n%s", r.err, r.stderr)
		}
		must(t, "cloud", "role", "grant", "--state-dir", dir, "--principal", "alice@contoso.com", "--role", clusterAdmin, "--scope", "managedCluster/"+azCluster)
		r = s.run("aks", "get-credentials", "--admin", "-g", azClusterGroup, "-n", azCluster, "--file", kc)
		if r.err == nil || !strings.Contains(r.stderr, signin.LocalAccountsDisabled) {
			t.Fatalf("az aks get-credentials --admin with local accounts disabled: err %v\n%s", r.err, r.stderr)
		}
		t.Logf("--admin refused: %s", lastLines(r.stderr, 1))
		// az aks show says why, as AKS does.
		show := s.must("aks", "show", "-g", azClusterGroup, "-n", azCluster, "--query", "[disableLocalAccounts, aadProfile.enableAzureRbac]", "-o", "tsv")
		if got := strings.Fields(show.stdout); len(got) != 2 || got[0] != "true" || got[1] != "true" {
			t.Fatalf("az aks show --query [disableLocalAccounts, aadProfile.enableAzureRbac]: %q; want true true", show.stdout)
		}

		// kubectl with the file az wrote: kubelogin prints a device code,
		// the test approves it as alice, the admin group may list.
		env := []string{"PATH=" + kubelogin(t) + string(os.PathListSeparator) + os.Getenv("PATH")}
		k := kubectlSignIn(t, dir, kc, "alice@contoso.com", env, "get", "ns")
		if k.err != nil || !k.prompted || !strings.Contains(k.out, "kube-system") {
			t.Fatalf("kubectl get ns through kubelogin as alice: err %v prompted %v\n%s", k.err, k.prompted, k.out)
		}
		t.Logf("kubectl get ns through kubelogin %s, device code approved: %s", kubeloginVersion, k.took.Round(time.Millisecond))
	})
}

// userEntryIsKubelogin checks the kubeconfig az wrote: the podid up
// cluster's API server and CA, and a kubelogin exec entry signing in to
// the AKS server app with device code.
func userEntryIsKubelogin(t *testing.T, kc string, rec *plan.Record) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(rec.APIServerCA)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if cfg.CurrentContext != azCluster || ctx == nil || ctx.AuthInfo != "clusterUser_"+azClusterGroup+"_"+azCluster {
		t.Fatalf("kubeconfig context %q: %+v", cfg.CurrentContext, ctx)
	}
	c, u := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	if c == nil || c.Server != rec.APIServer || !bytes.Equal(c.CertificateAuthorityData, ca) {
		t.Fatalf("cluster entry %+v, want server %s and its CA", c, rec.APIServer)
	}
	if u == nil || u.Exec == nil || u.Exec.Command != "kubelogin" {
		t.Fatalf("user entry %+v, want a kubelogin exec entry", u)
	}
	args := " " + strings.Join(u.Exec.Args, " ") + " "
	for _, want := range []string{"get-token ", " --environment AzurePublicCloud ", " --server-id " + cloud.AKSServerAppID + " ",
		" --client-id " + cloud.AKSClientAppID + " ", " --tenant-id " + azTenant + " ", " --login devicecode "} {
		if !strings.Contains(args, want) {
			t.Fatalf("kubelogin args %q lack %q", u.Exec.Args, want)
		}
	}
}

// azCLI is Debian's az with its versions.
type azCLI struct {
	bin, version, core string
}

func newAzCLI(t *testing.T) azCLI {
	t.Helper()
	bin, err := exec.LookPath("az")
	if err != nil {
		testenv.Missing(t, "needs az CLI (Debian's azure-cli): %v", err)
	}
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("az version: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("az version printed %s: %v", out, err)
	}
	a := azCLI{bin: bin}
	a.version, _ = v["azure-cli"].(string)
	a.core, _ = v["azure-cli-core"].(string)
	return a
}

// azSession is az with its own config folder, the embedded cloud
// registered and selected.
type azSession struct {
	t   *testing.T
	az  azCLI
	env []string
}

// session registers the cloud of rec in a fresh AZURE_CONFIG_DIR with
// the environment podid up prints: az reaches the cloud directly, trusting
// its CA, and its one request to login.microsoftonline.com (MSAL's
// instance discovery, which az cannot turn off) goes through podid up's
// proxy, which refuses any other tunnel.
func (a azCLI) session(t *testing.T, rec *plan.Record) *azSession {
	t.Helper()
	dir := t.TempDir()
	// A current version check keeps az from asking the internet for
	// its latest release.
	check := fmt.Sprintf(`{"versions": {"core": {"local": %q}, "azure-cli": {"local": %q}}, "update_time": %q}`,
		a.core, a.core, time.Now().Format("2006-01-02 15:04:05.000000"))
	if err := os.WriteFile(filepath.Join(dir, "versionCheck.json"), []byte(check), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"AZURE_CONFIG_DIR=" + dir, "AZURE_CORE_COLLECT_TELEMETRY=false", "AZURE_CORE_NO_COLOR=true",
		"AZURE_CORE_DISABLE_CONFIRM_PROMPT=true"}, plan.AzureCLIEnv(rec.CloudCA, rec.SignIn.AzureCLIProxy)...)
	s := &azSession{t: t, az: a, env: env}
	s.must(plan.AzureCLIRegisterArgs(rec.CloudURL)...)
	s.must("cloud", "set", "--name", plan.AzureCLICloudName)
	return s
}

// azRun is one az run.
type azRun struct {
	stdout, stderr string
	err            error
	prompted       bool // az printed a device code
	took           time.Duration
}

func (s *azSession) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.az.bin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	return cmd
}

func (s *azSession) run(args ...string) azRun {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := s.command(ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	return azRun{stdout: out.String(), stderr: errOut.String(), err: err, took: time.Since(start)}
}

// must runs az and fails the test when it fails. Arguments are not
// printed: one may be a secret.
func (s *azSession) must(args ...string) azRun {
	s.t.Helper()
	r := s.run(args...)
	if r.err != nil {
		s.t.Fatalf("az %s: %v\n%s", args[0], r.err, r.stderr)
	}
	return r
}

// deviceCode runs az and, when it prints a device code, approves it as
// upn with podid cloud device approve, as the person would on the page.
func (s *azSession) deviceCode(dir, upn string, args ...string) azRun {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := s.command(ctx, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	var r azRun
	var lines []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := deviceCodeRE.FindStringSubmatch(sc.Text()); m != nil && !r.prompted {
			r.prompted = true
			if a := run(s.t, nil, "cloud", "device", "approve", "--state-dir", dir, "--user", upn, "--code", m[1]); a.err != nil {
				s.t.Errorf("approve %s as %s: %v\n%s", m[1], upn, a.err, a.stderr)
			}
		}
	}
	r.err = cmd.Wait()
	r.stdout, r.stderr, r.took = out.String(), strings.Join(lines, "\n"), time.Since(start)
	return r
}

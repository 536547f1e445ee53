package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podid/podid/internal/plan"
)

// The doctor explains the sign-in failures people meet: bob, signed in
// with device code, refused by Azure RBAC (the finding names kubectl's
// Forbidden and the role grant that fixes it), a kubeconfig still on the
// azure auth provider that kubectl removed, a build agent whose service
// principal's secret expired, an admin (client-certificate) kubeconfig
// against a cluster with local accounts disabled, and olivia, whose token
// carries Azure AD's group overage instead of her groups (she is in 201),
// so the API server does not see her in the admin group.
func TestDoctorExplainsSignIn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
	})
	must(t, "up", "--detach", "--state-dir", dir, "--nodes=1", "--aad-admin-group-object-ids", adminsGroupID, "--enable-azure-rbac",
		"--disable-local-accounts", "--world", signInWorld(t))
	user := filepath.Join(dir, "user.kubeconfig")
	must(t, "get-credentials", "--state-dir", dir, "-f", user)
	// bob signs in once, so his token is in the cache the doctor's run of
	// the plugin reads.
	if r := kubectlSignIn(t, dir, user, "bob@contoso.com", nil, "auth", "whoami"); r.err != nil || !r.prompted {
		t.Fatalf("bob's sign-in: err %v prompted %v\n%s", r.err, r.prompted, r.out)
	}

	t.Run("bob refused by Azure RBAC", func(t *testing.T) {
		r := run(t, nil, "doctor", "--kubeconfig", user, "--check", "signin-identity", "--check", "kubeconfig-auth")
		for _, want := range []string{
			`pods is forbidden: User "bob@contoso.com" cannot list resource "pods" in API group "" at the cluster scope: ` + azureDenied,
			`podid cloud role grant --state-dir ` + dir + ` --principal bob@contoso.com --role "` + rbacReader + `" --scope managedCluster/aks-poc`,
			"cluster-admin",
		} {
			if r.err == nil || !strings.Contains(r.stdout, want) {
				t.Fatalf("podid doctor as bob: err %v, output lacks %q:\n%s\n%s", r.err, want, r.stdout, r.stderr)
			}
		}
		if strings.Contains(r.stdout, "eyJ") {
			t.Fatalf("the report shows a token:\n%s", r.stdout)
		}
		t.Logf("podid doctor as bob:\n%s", r.stdout)
	})

	t.Run("a build agent whose service principal's secret expired", func(t *testing.T) {
		spn := []string{"AAD_LOGIN_METHOD=spn", "AAD_SERVICE_PRINCIPAL_CLIENT_ID=" + buildAgentID, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=" + buildAgentSecret}
		k := kubectlSignIn(t, dir, user, "", spn, "get", "pods", "-A")
		if k.err == nil || !strings.Contains(k.out, "AADSTS7000222") {
			t.Fatalf("kubectl as the build agent: err %v; want AADSTS7000222:\n%s", k.err, k.out)
		}
		t.Logf("kubectl as the build agent:\n%s", lastLines(k.out, 4))
		r := run(t, spn, "doctor", "--kubeconfig", user, "--check", "signin-identity")
		for _, want := range []string{"signin-identity", "ervice principal " + buildAgentID + " cannot sign in: its client secret has expired (AADSTS7000222)",
			"az ad sp credential reset --id " + buildAgentID} {
			if r.err == nil || !strings.Contains(r.stdout, want) {
				t.Fatalf("podid doctor as the build agent: err %v, output lacks %q:\n%s\n%s", r.err, want, r.stdout, r.stderr)
			}
		}
		if strings.Contains(r.stdout+r.stderr, buildAgentSecret) {
			t.Fatal("the doctor printed the client secret")
		}
	})

	t.Run("an admin kubeconfig with local accounts disabled", func(t *testing.T) {
		admin := certKubeconfig(t, user, filepath.Join(dir, "old-admin.kubeconfig"))
		k := kubectlSignIn(t, dir, admin, "", nil, "get", "pods", "-A")
		if k.err == nil || !strings.Contains(k.out, "error: You must be logged in to the server") {
			t.Fatalf("kubectl with a client certificate the cluster does not accept: err %v:\n%s", k.err, k.out)
		}
		r := run(t, nil, "doctor", "--state-dir", dir, "--kubeconfig", admin, "--check", "local-accounts")
		t.Logf("kubectl with an admin kubeconfig: %s", lastLines(k.out, 1))
		for _, want := range []string{"local-accounts", "signs in with a client certificate (a local account), but cluster aks-poc has local accounts disabled",
			"podid get-credentials --state-dir " + dir + " -f " + admin} {
			if r.err == nil || !strings.Contains(r.stdout, want) {
				t.Fatalf("podid doctor on an admin kubeconfig: err %v, output lacks %q:\n%s\n%s", r.err, want, r.stdout, r.stderr)
			}
		}
	})

	t.Run("olivia, in more than 200 groups, is not seen in the admin group", func(t *testing.T) {
		// Signing out: olivia's sign-in starts with an empty cache.
		if err := os.RemoveAll(plan.TokenCacheDir(dir)); err != nil {
			t.Fatal(err)
		}
		who := kubectlSignIn(t, dir, user, "olivia@contoso.com", nil, "auth", "whoami")
		if who.err != nil || !who.prompted || !strings.Contains(who.out, "olivia@contoso.com") || strings.Contains(who.out, adminsGroupID) {
			t.Fatalf("kubectl auth whoami as olivia (aks-admins among %d groups): err %v prompted %v; want her without the admin group:\n%s", overageGroups+1, who.err, who.prompted, who.out)
		}
		k := kubectlSignIn(t, dir, user, "olivia@contoso.com", nil, "get", "pods", "-A")
		if k.err == nil || !strings.Contains(k.out, `pods is forbidden: User "olivia@contoso.com" cannot list resource "pods"`) {
			t.Fatalf("kubectl get pods -A as olivia: err %v; want Forbidden:\n%s", k.err, k.out)
		}
		t.Logf("olivia, a member of aks-admins (cluster-admin) and %d other groups: %s", overageGroups, lastLines(k.out, 1))
		r := run(t, nil, "doctor", "--kubeconfig", user, "--check", "signin-identity")
		t.Logf("podid doctor as olivia:\n%s", r.stdout)
		for _, want := range []string{"group overage: the user is in more than 200 groups", "_claim_names.groups",
			"Azure RBAC reads group memberships from Azure AD, so a role assigned to one of the user's groups does apply"} {
			if r.err == nil || !strings.Contains(r.stdout, want) {
				t.Fatalf("podid doctor as olivia: err %v, output lacks %q:\n%s\n%s", r.err, want, r.stdout, r.stderr)
			}
		}
		// An Azure role for her admin group reaches her, overage or not.
		must(t, "cloud", "role", "grant", "--state-dir", dir, "--principal", "aks-admins", "--role", rbacReader, "--scope", "managedCluster/aks-poc")
		waitFor(t, "olivia to list pods through her group's Azure role", func(context.Context) error {
			if r := kubectlSignIn(t, dir, user, "olivia@contoso.com", nil, "get", "pods", "-A"); r.err != nil {
				return errorOf(r)
			}
			return nil
		})
	})

	t.Run("the removed azure auth provider", func(t *testing.T) {
		cfg, err := clientcmd.LoadFromFile(user)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range cfg.AuthInfos {
			u.Exec, u.AuthProvider = nil, &clientcmdapi.AuthProviderConfig{Name: "azure", Config: map[string]string{"apiserver-id": "6dae42f8-4368-4678-94ff-3960e28e3630"}}
		}
		legacy := filepath.Join(dir, "legacy.kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, legacy); err != nil {
			t.Fatal(err)
		}
		r := run(t, nil, "doctor", "--kubeconfig", legacy)
		for _, want := range []string{"kubeconfig-auth", "error: The azure auth plugin has been removed.", "kubelogin convert-kubeconfig -l azurecli --kubeconfig " + legacy} {
			if r.err == nil || !strings.Contains(r.stdout, want) {
				t.Fatalf("podid doctor on the azure auth provider: err %v, output lacks %q:\n%s\n%s", r.err, want, r.stdout, r.stderr)
			}
		}
	})
}

// The build agent of the sign-in tests: a service principal whose only
// secret expired.
const (
	buildAgentID     = "3f6c2d1e-8a4b-4c7d-9e0f-1a2b3c4d5e6f"
	buildAgentSecret = "build-agent-expired-secret"
)

// overageGroups is how many groups besides aks-admins olivia is in: with
// them she is past the 200 a token carries.
const overageGroups = 200

// signInWorld writes podid up's built-in world with the sign-in tests'
// additions and returns the file: the build agent, and olivia, a member of
// aks-admins and of overageGroups other groups.
func signInWorld(t *testing.T) string {
	t.Helper()
	world := string(plan.DefaultWorld)
	var groups strings.Builder
	for i := range overageGroups {
		fmt.Fprintf(&groups, "      - {name: team-%03d, members: [olivia@contoso.com]}\n", i)
	}
	for _, edit := range [][2]string{
		{"    applications:\n", "    applications:\n      - name: build-agent\n        appId: " + buildAgentID + "\n        secrets:\n          - value: " + buildAgentSecret + "\n            endDate: 2025-06-30T00:00:00Z\n"},
		{"    users:\n", "    users:\n      - {userPrincipalName: olivia@contoso.com, password: olivia-local-password}\n"},
		{"    groups:\n", "    groups:\n" + groups.String()},
		{"members: [alice@contoso.com]", "members: [alice@contoso.com, olivia@contoso.com]"},
	} {
		if strings.Count(world, edit[0]) != 1 {
			t.Fatalf("the built-in world has %d of %q, want 1", strings.Count(world, edit[0]), edit[0])
		}
		world = strings.Replace(world, edit[0], edit[1], 1)
	}
	file := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(file, []byte(world), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// certKubeconfig writes a kubeconfig for like's cluster that signs in with
// a client certificate of its own making, as an admin kubeconfig from
// before local accounts were disabled does.
func certKubeconfig(t *testing.T, like, path string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(like)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "masterclient", Organization: []string{"system:masters"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range cfg.AuthInfos {
		u.Exec, u.AuthProvider = nil, nil
		u.ClientCertificateData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		u.ClientKeyData = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The doctor explains the sign-in failures people meet: bob, signed in
// with device code, refused by Azure RBAC (the finding names kubectl's
// Forbidden and the role grant that fixes it), and a kubeconfig still on
// the azure auth provider that kubectl removed.
func TestDoctorExplainsSignIn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		_ = run(t, nil, "down", "--state-dir", dir)
		noneLeft(t, dir)
	})
	must(t, "up", "--detach", "--state-dir", dir, "--nodes=1", "--aad-admin-group-object-ids", adminsGroupID, "--enable-azure-rbac")
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

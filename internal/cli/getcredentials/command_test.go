package getcredentials

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// fakeRun writes the record of a run in a new state folder, with local
// accounts as given, and returns the folder.
func fakeRun(t *testing.T, localAccounts bool) string {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	admin := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(ca, []byte("APISERVER CA"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["podid"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443"}
	cfg.AuthInfos["podid-admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("CERT"), ClientKeyData: []byte("KEY")}
	cfg.Contexts["podid"] = &clientcmdapi.Context{Cluster: "podid", AuthInfo: "podid-admin"}
	cfg.CurrentContext = "podid"
	if err := clientcmd.WriteToFile(*cfg, admin); err != nil {
		t.Fatal(err)
	}
	rec := &plan.Record{StateDir: dir, Kubeconfig: admin, APIServer: "https://127.0.0.1:6443", APIServerCA: ca,
		CloudURL: "https://127.0.0.1:8443", CloudCA: "/cloud/ca.pem",
		SignIn: &plan.SignIn{TenantID: "tid", ServerAppID: "server", ClientAppID: "client", LocalAccounts: localAccounts,
			Cluster: plan.Cluster{Name: "aks-poc", ResourceGroup: "rg"}}}
	if err := runstate.Write(plan.RecordFile(dir), rec); err != nil {
		t.Fatal(err)
	}
	return dir
}

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestGetCredentialsWritesAnAzureADUserAndMerges(t *testing.T) {
	dir := fakeRun(t, true)
	file := filepath.Join(t.TempDir(), "config")
	other := clientcmdapi.NewConfig()
	other.Clusters["other"] = &clientcmdapi.Cluster{Server: "https://other"}
	if err := clientcmd.WriteToFile(*other, file); err != nil {
		t.Fatal(err)
	}
	out, err := execute(t, "--state-dir", dir, "-f", file, "--kubelogin")
	if err != nil || out != `Merged "aks-poc" as current context in `+file+"\n" {
		t.Fatalf("out %q err %v", out, err)
	}
	cfg, err := clientcmd.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.AuthInfos["clusterUser_rg_aks-poc"].Exec
	if cfg.CurrentContext != "aks-poc" || cfg.Clusters["other"] == nil || string(cfg.Clusters["aks-poc"].CertificateAuthorityData) != "APISERVER CA" {
		t.Fatalf("current %q clusters %v", cfg.CurrentContext, cfg.Clusters)
	}
	want := "get-token --login devicecode --server-id server --client-id client --tenant-id tid --environment AzurePublicCloud --authority-host https://127.0.0.1:8443/ --disable-instance-discovery --cache-dir " + plan.TokenCacheDir(dir)
	if e == nil || e.Command != "kubelogin" || strings.Join(e.Args, " ") != want {
		t.Fatalf("exec %+v\nwant args %s", e, want)
	}
	if info, _ := os.Stat(file); info.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig mode %v, want 0600", info.Mode().Perm())
	}
}

func TestGetCredentialsAdmin(t *testing.T) {
	out, err := execute(t, "--state-dir", fakeRun(t, true), "--admin", "-f", "-")
	if err != nil || !strings.Contains(out, "clusterAdmin_rg_aks-poc") || !strings.Contains(out, "current-context: aks-poc-admin") {
		t.Fatalf("--admin: %v\n%s", err, out)
	}
	_, err = execute(t, "--state-dir", fakeRun(t, false), "--admin", "-f", "-")
	if err == nil || err.Error() != "Operation failed with status: 'Bad Request'. Details: Getting static credential isn't allowed because this cluster is set to disable local accounts." {
		t.Fatalf("--admin with local accounts disabled: %v", err)
	}
}

func TestGetCredentialsWithoutARun(t *testing.T) {
	_, err := execute(t, "--state-dir", t.TempDir(), "-f", "-")
	if err == nil || !strings.Contains(err.Error(), "is podid up running?") {
		t.Fatalf("error %v", err)
	}
}

package signin_test

import (
	"slices"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podid/podid/internal/signin"
)

var cluster = signin.Cluster{Name: "aks-poc", ResourceGroup: "rg-aks-poc", Server: "https://127.0.0.1:6443", CAPEM: []byte("CA")}

func exec(command, login string) signin.Exec {
	return signin.Exec{Command: command, Login: login, ServerID: "6dae42f8-4368-4678-94ff-3960e28e3630", ClientID: "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
		TenantID: "t", AuthorityHost: "https://127.0.0.1:8443/", CAFile: "/run/cloud/ca.pem", CacheDir: "/state/run/token-cache"}
}

func TestUserKubeconfigIsAzCLIsWithTheEmbeddedCloud(t *testing.T) {
	cfg := signin.UserConfig(cluster, exec("kubelogin", signin.LoginDeviceCode))
	if cfg.CurrentContext != "aks-poc" || cfg.Contexts["aks-poc"].AuthInfo != "clusterUser_rg-aks-poc_aks-poc" || cfg.Clusters["aks-poc"].Server != cluster.Server {
		t.Fatalf("context %q -> %+v; want az's names (aks-poc, clusterUser_rg-aks-poc_aks-poc)", cfg.CurrentContext, cfg.Contexts)
	}
	e := cfg.AuthInfos["clusterUser_rg-aks-poc_aks-poc"].Exec
	want := "get-token --login devicecode --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 --client-id 80faf920-1908-4b52-b5ef-a8e7bedfc67a --tenant-id t --environment AzurePublicCloud --authority-host https://127.0.0.1:8443/ --disable-instance-discovery --cache-dir /state/run/token-cache"
	if got := strings.Join(e.Args, " "); got != want {
		t.Fatalf("args\n%s\nwant\n%s", got, want)
	}
	if e.Command != "kubelogin" || e.APIVersion != signin.ExecV1 || !strings.Contains(e.InstallHint, "aka.ms/aks/kubelogin") {
		t.Fatalf("exec %s %s hint %q", e.Command, e.APIVersion, e.InstallHint)
	}
	if len(e.Env) != 1 || e.Env[0] != (clientcmdapi.ExecEnvVar{Name: "SSL_CERT_FILE", Value: "/run/cloud/ca.pem"}) {
		t.Fatalf("env %+v, want SSL_CERT_FILE naming the cloud's CA", e.Env)
	}
}

func TestServicePrincipalEntryLeavesTheClientIDToTheEnvironment(t *testing.T) {
	e := exec("/usr/local/bin/podid", signin.LoginSPN).Config()
	if slices.Contains(e.Args, "--client-id") || !slices.Contains(e.Args, "spn") {
		t.Fatalf("args %v: want --login spn and no --client-id (AAD_SERVICE_PRINCIPAL_CLIENT_ID gives it)", e.Args)
	}
	if e.InstallHint != "" {
		t.Fatalf("podid get-token gets kubelogin's install hint %q", e.InstallHint)
	}
}

func TestAdminKubeconfigAndMergeKeepOtherClusters(t *testing.T) {
	into := clientcmdapi.NewConfig()
	into.Clusters["other"] = &clientcmdapi.Cluster{Server: "https://other"}
	into.CurrentContext = "other"
	signin.Merge(into, signin.AdminConfig(cluster, []byte("CERT"), []byte("KEY")))
	if into.CurrentContext != "aks-poc-admin" || into.Clusters["other"] == nil {
		t.Fatalf("current %q clusters %v; want aks-poc-admin current and the other cluster kept", into.CurrentContext, into.Clusters)
	}
	a := into.AuthInfos["clusterAdmin_rg-aks-poc_aks-poc"]
	if a == nil || string(a.ClientCertificateData) != "CERT" || a.Exec != nil {
		t.Fatalf("admin user %+v, want the client certificate", a)
	}
}

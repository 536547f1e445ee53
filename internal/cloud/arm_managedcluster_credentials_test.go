package cloud_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/signin"
)

const (
	credTenant = "6f0c6a50-3b0c-4d6b-9d38-2f4a0c1b7b01"
	credSub    = "0b1c2d3e-0000-4000-8000-0000000000c1"
	// credRG is spelled in mixed case to show the path is matched without case.
	credRG = "rg-AKS"
)

// credWorld has three clusters: aks runs with local accounts, aks-aad runs
// with local accounts disabled and aks-idle runs nowhere (no podid up told
// the cloud its API server). Principals hold the two credential roles, a
// Reader role (no credential action), or Owner of the subscription.
const credWorld = `
tenants:
  - id: ` + credTenant + `
    name: contoso
    subscriptions:
      - id: ` + credSub + `
        name: aks
        resourceGroups:
          - name: ` + credRG + `
            location: westus2
            managedClusters:
              - name: aks
              - name: aks-aad
              - name: aks-idle
    applications:
      - name: cluster-user
        secrets: [{value: pw}]
      - name: cluster-admin
        secrets: [{value: pw}]
      - name: reader
        secrets: [{value: pw}]
      - name: owner
        secrets: [{value: pw}]
    roleAssignments:
      - {principal: cluster-user, role: Azure Kubernetes Service Cluster User Role, scope: managedCluster/aks}
      - {principal: cluster-user, role: Azure Kubernetes Service Cluster User Role, scope: managedCluster/aks-aad}
      - {principal: cluster-admin, role: Azure Kubernetes Service Cluster Admin Role, scope: managedCluster/aks}
      - {principal: cluster-admin, role: Azure Kubernetes Service Cluster Admin Role, scope: managedCluster/aks-aad}
      - {principal: reader, role: Reader, scope: subscription/aks}
      - {principal: owner, role: Owner, scope: subscription/aks}
`

// credAnswer is what a credential call got: the status, ARM's error code
// and message, or the one kubeconfig of the answer, decoded.
type credAnswer struct {
	status        int
	code, message string
	name          string
	kubeconfig    *clientcmdapi.Config
}

func TestManagedClusterCredentials(t *testing.T) {
	env := cloudtest.StartYAML(t, credWorld)
	caPEM := []byte("-----BEGIN CERTIFICATE-----\nMIIBapiserverCA\n-----END CERTIFICATE-----\n")
	exec := signin.Exec{Command: "kubelogin", Login: signin.LoginDeviceCode, ServerID: cloud.AKSServerAppID, ClientID: cloud.AKSClientAppID,
		TenantID: credTenant, AuthorityHost: env.AuthorityHost, CAFile: "/run/cloud-ca.pem", CacheDir: "/run/token-cache"}
	for name, access := range map[string]cloud.ClusterAccess{
		"aks": {Cluster: signin.Cluster{Name: "aks", ResourceGroup: credRG, Server: "https://127.0.0.1:6443", CAPEM: caPEM}, User: exec,
			AdminCertPEM: []byte("admin-cert"), AdminKeyPEM: []byte("admin-key")},
		"aks-aad": {Cluster: signin.Cluster{Name: "aks-aad", ResourceGroup: credRG, Server: "https://127.0.0.1:7443", CAPEM: caPEM}, User: exec},
	} {
		if err := env.Cloud.SetClusterAccess(clusterID(name), access); err != nil {
			t.Fatal(err)
		}
	}

	cases := map[string]struct {
		app, method, cluster, op string
		query                    string // after api-version
		wantStatus               int
		wantCode                 string
		wantMessage              string // a part of the error message
		check                    func(t *testing.T, a credAnswer)
	}{
		"a cluster user gets the kubelogin kubeconfig of the running API server": {
			app: "cluster-user", cluster: "aks", op: "listClusterUserCredential", wantStatus: http.StatusOK,
			check: func(t *testing.T, a credAnswer) {
				execEntry(t, a, "clusterUser", "https://127.0.0.1:6443", caPEM)
			},
		},
		"az's --format exec is the default's kubeconfig": {
			app: "cluster-user", cluster: "aks-aad", op: "listClusterUserCredential", query: "&format=exec", wantStatus: http.StatusOK,
			check: func(t *testing.T, a credAnswer) {
				execEntry(t, a, "clusterUser", "https://127.0.0.1:7443", caPEM)
			},
		},
		"az's --format azure gets the azure auth-provider entry": {
			app: "cluster-user", cluster: "aks", op: "listClusterUserCredential", query: "&format=azure", wantStatus: http.StatusOK,
			check: func(t *testing.T, a credAnswer) {
				u := a.kubeconfig.AuthInfos["clusterUser_"+credRG+"_aks"]
				if u == nil || u.AuthProvider == nil || u.AuthProvider.Name != "azure" || u.AuthProvider.Config["apiserver-id"] != cloud.AKSServerAppID ||
					u.AuthProvider.Config["tenant-id"] != credTenant || u.Exec != nil {
					t.Fatalf("user entry %+v, want the azure auth-provider for the AKS server app", u)
				}
			},
		},
		"an unknown --format is refused": {
			app: "cluster-user", cluster: "aks", op: "listClusterUserCredential", query: "&format=yaml",
			wantStatus: http.StatusBadRequest, wantCode: "InvalidParameter", wantMessage: "'yaml' of parameter 'format'",
		},
		"the action segment is matched without case, as Resource Manager matches paths": {
			app: "cluster-user", cluster: "aks", op: "listclusterusercredential", wantStatus: http.StatusOK,
			check: func(t *testing.T, a credAnswer) {
				execEntry(t, a, "clusterUser", "https://127.0.0.1:6443", caPEM)
			},
		},
		"Owner holds every action, the credential ones included": {
			app: "owner", cluster: "aks", op: "listClusterUserCredential", wantStatus: http.StatusOK,
			check: func(t *testing.T, a credAnswer) {
				execEntry(t, a, "clusterUser", "https://127.0.0.1:6443", caPEM)
			},
		},
		"Reader may read the cluster but not list its credentials": {
			app: "reader", cluster: "aks", op: "listClusterUserCredential",
			wantStatus: http.StatusForbidden, wantCode: "AuthorizationFailed",
			wantMessage: "does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action' over scope '" + clusterID("aks") + "'",
		},
		"the user role does not reach the admin credential": {
			app: "cluster-user", cluster: "aks", op: "listClusterAdminCredential",
			wantStatus: http.StatusForbidden, wantCode: "AuthorizationFailed", wantMessage: "'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action'",
		},
		"a cluster admin gets the local admin's client certificate": {
			app: "cluster-admin", cluster: "aks", op: "listClusterAdminCredential", wantStatus: http.StatusOK,
			check: func(t *testing.T, a credAnswer) {
				if a.name != "clusterAdmin" || a.kubeconfig.CurrentContext != "aks-admin" {
					t.Fatalf("kubeconfig %q with context %q, want clusterAdmin and aks-admin", a.name, a.kubeconfig.CurrentContext)
				}
				u := a.kubeconfig.AuthInfos["clusterAdmin_"+credRG+"_aks"]
				if u == nil || string(u.ClientCertificateData) != "admin-cert" || string(u.ClientKeyData) != "admin-key" {
					t.Fatalf("admin user %+v, want the local admin's certificate", u)
				}
			},
		},
		"the admin credential of a cluster with local accounts disabled is refused with AKS's text": {
			app: "cluster-admin", cluster: "aks-aad", op: "listClusterAdminCredential",
			wantStatus: http.StatusBadRequest, wantCode: "BadRequest", wantMessage: signin.LocalAccountsDisabled,
		},
		"an unknown cluster is not found once the caller may look": {
			app: "owner", cluster: "aks-nope", op: "listClusterUserCredential",
			wantStatus: http.StatusNotFound, wantCode: "ResourceNotFound",
			wantMessage: "The Resource 'Microsoft.ContainerService/managedClusters/aks-nope' under resource group '" + credRG + "' was not found.",
		},
		"an unknown cluster is refused before it is looked up": {
			app: "cluster-user", cluster: "aks-nope", op: "listClusterUserCredential",
			wantStatus: http.StatusForbidden, wantCode: "AuthorizationFailed",
		},
		"a cluster that no podid up runs has no credentials": {
			app: "owner", cluster: "aks-idle", op: "listClusterUserCredential",
			wantStatus: http.StatusConflict, wantCode: "OperationNotAllowed", wantMessage: "Start it with podid up",
		},
		"GET of the action is not allowed": {
			app: "owner", method: http.MethodGet, cluster: "aks", op: "listClusterUserCredential",
			wantStatus: http.StatusMethodNotAllowed, wantCode: "MethodNotAllowed",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			a := callCredential(t, env, tc.app, method, tc.cluster, tc.op, tc.query)
			if a.status != tc.wantStatus || a.code != tc.wantCode || !strings.Contains(a.message, tc.wantMessage) {
				t.Fatalf("got %d %s %q, want %d %s containing %q", a.status, a.code, a.message, tc.wantStatus, tc.wantCode, tc.wantMessage)
			}
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

// execEntry checks a clusterUser kubeconfig as az aks get-credentials
// writes it for a managed Azure AD cluster: kubelogin with device code for
// the AKS server app, reaching server with caPEM.
func execEntry(t *testing.T, a credAnswer, name, server string, caPEM []byte) {
	t.Helper()
	if a.name != name {
		t.Fatalf("kubeconfig named %q, want %q", a.name, name)
	}
	ctx := a.kubeconfig.Contexts[a.kubeconfig.CurrentContext]
	if ctx == nil {
		t.Fatalf("no current context in %+v", a.kubeconfig)
	}
	c, u := a.kubeconfig.Clusters[ctx.Cluster], a.kubeconfig.AuthInfos[ctx.AuthInfo]
	if c == nil || c.Server != server || string(c.CertificateAuthorityData) != string(caPEM) {
		t.Fatalf("cluster %+v, want server %s and the API server's CA", c, server)
	}
	if !strings.HasPrefix(ctx.AuthInfo, "clusterUser_"+credRG+"_") || u == nil || u.Exec == nil || u.Exec.Command != "kubelogin" {
		t.Fatalf("user %s: %+v, want a kubelogin exec entry", ctx.AuthInfo, u)
	}
	for _, want := range [][]string{
		{"--server-id", cloud.AKSServerAppID}, {"--client-id", cloud.AKSClientAppID}, {"--tenant-id", credTenant},
		{"--login", "devicecode"}, {"--environment", "AzurePublicCloud"},
	} {
		if i := slices.Index(u.Exec.Args, want[0]); i < 0 || i+1 >= len(u.Exec.Args) || u.Exec.Args[i+1] != want[1] {
			t.Fatalf("exec args %q lack %s %s", u.Exec.Args, want[0], want[1])
		}
	}
	if len(u.ClientKeyData) > 0 || u.Token != "" {
		t.Fatalf("the user kubeconfig carries a secret: %+v", u)
	}
}

func clusterID(name string) string {
	return "/subscriptions/" + credSub + "/resourceGroups/" + credRG + "/providers/Microsoft.ContainerService/managedClusters/" + name
}

// callCredential calls op on cluster as app with a Resource Manager token,
// the way az's SDK does (POST, no body), and decodes the answer.
func callCredential(t *testing.T, env *cloudtest.Env, app, method, cluster, op, query string) credAnswer {
	t.Helper()
	status, body := armCall(t, env, app, method, fmt.Sprintf("%s/%s?api-version=2022-11-01%s", clusterID(cluster), op, query))
	var out struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Kubeconfigs []struct {
			Name  string `json:"name"`
			Value []byte `json:"value"` // base64, as on the wire
		} `json:"kubeconfigs"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	a := credAnswer{status: status, code: out.Error.Code, message: out.Error.Message}
	if status == http.StatusOK {
		if len(out.Kubeconfigs) != 1 {
			t.Fatalf("answer %s holds %d kubeconfigs, want 1", body, len(out.Kubeconfigs))
		}
		a.name = out.Kubeconfigs[0].Name
		var err error
		if a.kubeconfig, err = clientcmd.Load(out.Kubeconfigs[0].Value); err != nil {
			t.Fatalf("the kubeconfig does not load: %v\n%s", err, out.Kubeconfigs[0].Value)
		}
	}
	return a
}

func TestSetClusterAccessRefusesUnknownClusters(t *testing.T) {
	env := cloudtest.StartYAML(t, credWorld)
	a := cloud.ClusterAccess{Cluster: signin.Cluster{Name: "x", Server: "https://127.0.0.1:6443", CAPEM: []byte("ca")}}
	if err := env.Cloud.SetClusterAccess(clusterID("aks-nope"), a); err == nil || !strings.Contains(err.Error(), "no such cluster") {
		t.Fatalf("SetClusterAccess of an unknown cluster: %v", err)
	}
	a.Cluster.Server = ""
	if err := env.Cloud.SetClusterAccess(clusterID("aks"), a); err == nil || !strings.Contains(err.Error(), "URL and CA are required") {
		t.Fatalf("SetClusterAccess without a server: %v", err)
	}
}

// az aks show reports disableLocalAccounts: true once the cluster's API
// server runs without an admin account, false while it has one, and false
// (AKS's default) before podid up reported the cluster.
func TestManagedClusterShowsWhetherLocalAccountsAreDisabled(t *testing.T) {
	env := cloudtest.StartYAML(t, credWorld)
	ca := []byte("ca")
	for name, access := range map[string]cloud.ClusterAccess{
		"aks":     {Cluster: signin.Cluster{Name: "aks", Server: "https://127.0.0.1:6443", CAPEM: ca}, AdminCertPEM: []byte("c"), AdminKeyPEM: []byte("k")},
		"aks-aad": {Cluster: signin.Cluster{Name: "aks-aad", Server: "https://127.0.0.1:7443", CAPEM: ca}},
	} {
		if err := env.Cloud.SetClusterAccess(clusterID(name), access); err != nil {
			t.Fatal(err)
		}
	}
	for cluster, want := range map[string]bool{"aks": false, "aks-aad": true, "aks-idle": false} {
		status, body := armCall(t, env, "reader", http.MethodGet, clusterID(cluster)+"?api-version=2024-09-01")
		var out struct {
			Properties struct {
				DisableLocalAccounts *bool `json:"disableLocalAccounts"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(body, &out); err != nil || status != http.StatusOK {
			t.Fatalf("GET %s: %d %v\n%s", cluster, status, err, body)
		}
		if got := out.Properties.DisableLocalAccounts; got == nil || *got != want {
			t.Errorf("%s: disableLocalAccounts = %v, want %v", cluster, got, want)
		}
	}
}

// armCall sends method to path (with its query) on Resource Manager as app
// of the credential world and returns the status and body.
func armCall(t *testing.T, env *cloudtest.Env, app, method, path string) (int, []byte) {
	t.Helper()
	tok, err := getToken(t, appCred(t, env, credTenant, app), "https://management.core.windows.net//.default")
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, strings.TrimSuffix(env.ARMEndpoint, "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := env.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

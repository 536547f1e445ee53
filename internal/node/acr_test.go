package node

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func acrConfig(t *testing.T) Config {
	t.Helper()
	l, err := NewLayout(2, "/run/podid/node2")
	if err != nil {
		t.Fatal(err)
	}
	return Config{Layout: l, Name: "real-2", ACR: &ACR{
		Executable: "/usr/local/bin/podid", TenantID: "11111111-0000-0000-0000-000000000001",
		KubeletClientID: "5b1e0f8a-0000-4000-8000-000000000001", SubscriptionID: "22222222-0000-0000-0000-000000000001",
		ResourceGroup: "MC_rg", Location: "westus2",
		IMDSEndpoint: "http://127.0.0.1:40001", AuthorityHost: "https://127.0.0.1:40000/",
		CAFile: "/run/podid/cloud/ca.pem", FrontDoor: "127.0.0.1:40002",
		FrontDoorNames: []string{"*.azurecr.io"}, LoginServers: []string{"PodidACR.azurecr.io"},
	}}
}

func TestAzureJSONNamesTheKubeletIdentity(t *testing.T) {
	cases := map[string]struct {
		edit    func(*Config)
		want    string
		wantErr string
	}{
		"a managed-identity node as AKS writes it": {
			edit: func(*Config) {},
			want: `{
  "cloud": "AzurePublicCloud",
  "tenantId": "11111111-0000-0000-0000-000000000001",
  "aadClientId": "msi",
  "aadClientSecret": "msi",
  "useManagedIdentityExtension": true,
  "userAssignedIdentityID": "5b1e0f8a-0000-4000-8000-000000000001",
  "location": "westus2",
  "subscriptionId": "22222222-0000-0000-0000-000000000001",
  "resourceGroup": "MC_rg"
}
`,
		},
		"no kubelet identity is refused with the fix": {
			edit:    func(c *Config) { c.ACR.KubeletClientID = "" },
			wantErr: "userAssignedIdentityID is empty",
		},
		"a node without ACR settings has no azure.json": {
			edit:    func(c *Config) { c.ACR = nil },
			wantErr: "the node has no ACR settings",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := acrConfig(t)
			tc.edit(&c)
			got, err := AzureJSON(c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("AzureJSON = %v\n%s\nwant\n%s", err, got, tc.want)
			}
		})
	}
}

func TestCredentialProviderConfigRunsPodidAsAKSProvider(t *testing.T) {
	cases := map[string]struct {
		edit func(*Config)
		want string
	}{
		"every endpoint of the embedded cloud in the environment": {
			edit: func(*Config) {},
			want: `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- apiVersion: credentialprovider.kubelet.k8s.io/v1
  args:
  - acr-credential-provider
  - /run/podid/node2/azure.json
  defaultCacheDuration: 10m0s
  env:
  - name: PODID_IMDS_ENDPOINT
    value: http://127.0.0.1:40001
  - name: AZURE_AUTHORITY_HOST
    value: https://127.0.0.1:40000/
  - name: PODID_CA_BUNDLE
    value: /run/podid/cloud/ca.pem
  - name: PODID_FRONT_DOOR
    value: 127.0.0.1:40002
  matchImages:
  - '*.azurecr.io'
  - '*.azurecr.cn'
  - '*.azurecr.de'
  - '*.azurecr.us'
  name: acr-credential-provider
`,
		},
		"empty settings leave the provider's defaults and a cache duration of its own": {
			edit: func(c *Config) {
				c.ACR.AuthorityHost, c.ACR.FrontDoor, c.ACR.CAFile = "", "", ""
				c.ACR.CacheDuration = 90 * time.Second
			},
			want: `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- apiVersion: credentialprovider.kubelet.k8s.io/v1
  args:
  - acr-credential-provider
  - /run/podid/node2/azure.json
  defaultCacheDuration: 1m30s
  env:
  - name: PODID_IMDS_ENDPOINT
    value: http://127.0.0.1:40001
  matchImages:
  - '*.azurecr.io'
  - '*.azurecr.cn'
  - '*.azurecr.de'
  - '*.azurecr.us'
  name: acr-credential-provider
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := acrConfig(t)
			tc.edit(&c)
			got, err := CredentialProviderConfig(c)
			if err != nil || got != tc.want {
				t.Fatalf("CredentialProviderConfig = %v\n%s\nwant\n%s", err, got, tc.want)
			}
		})
	}
}

func TestRegistryCertsTrustTheCloudForLoginServersOnly(t *testing.T) {
	c := acrConfig(t)
	c.Registries = Mirrors("http://127.0.0.1:5000", []string{"podid.local"})
	got := ACRRegistryCerts(c)
	want := map[string]string{"/run/podid/node2/containerd/hosts.d/podidacr.azurecr.io/ca.crt": "/run/podid/cloud/ca.pem"}
	if len(got) != len(want) || got["/run/podid/node2/containerd/hosts.d/podidacr.azurecr.io/ca.crt"] != "/run/podid/cloud/ca.pem" {
		t.Fatalf("ACRRegistryCerts = %v, want %v", got, want)
	}
	if hosts := RegistryHosts(c); len(hosts) != 1 || hosts["podid.local"] == "" {
		t.Errorf("a login server got a hosts.toml, which would hide its ca.crt from containerd: %v", hosts)
	}
	c.ACR = nil
	if got := ACRRegistryCerts(c); len(got) != 0 {
		t.Errorf("without ACR settings: %v", got)
	}
}

func TestKubeletAndContainerdSettingsOnlyWithACR(t *testing.T) {
	c := acrConfig(t)
	if got := strings.Join(kubeletCredentialArgs(c), " "); got != "--image-credential-provider-config=/run/podid/node2/credential-provider/config.yaml --image-credential-provider-bin-dir=/run/podid/node2/credential-provider/bin" {
		t.Errorf("kubelet flags = %s", got)
	}
	if got := strings.Join(containerdEnv(c, "127.0.0.1:3128"), " "); got != "HTTPS_PROXY=http://127.0.0.1:3128 https_proxy=http://127.0.0.1:3128 NO_PROXY= no_proxy=" {
		t.Errorf("containerd env = %s", got)
	}
	c.ACR = nil
	if kubeletCredentialArgs(c) != nil || containerdEnv(c, "127.0.0.1:3128") != nil {
		t.Error("a node without ACR settings gets provider flags or a proxy")
	}
}

func TestProxyTarget(t *testing.T) {
	names := []string{"login.microsoftonline.com", "*.azurecr.io"}
	cases := map[string]struct{ in, want string }{
		"a registry goes to the front door":               {"podidacr.azurecr.io:443", "127.0.0.1:9443"},
		"names are case-insensitive, a final dot is fine": {"PodidACR.AzureCR.io.:443", "127.0.0.1:9443"},
		"an exact name goes to the front door":            {"login.microsoftonline.com:443", "127.0.0.1:9443"},
		"two labels under the zone are no registry":       {"a.b.azurecr.io:443", "a.b.azurecr.io:443"},
		"the bare zone is no registry":                    {"azurecr.io:443", "azurecr.io:443"},
		"another port is dialled as asked":                {"podidacr.azurecr.io:8443", "podidacr.azurecr.io:8443"},
		"another name is dialled as asked":                {"registry.example:443", "registry.example:443"},
		"a request without a port is refused":             {"podidacr.azurecr.io", ""},
		"a look-alike suffix is not the zone":             {"podidacr.notazurecr.io:443", "podidacr.notazurecr.io:443"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := proxyTarget(tc.in, "127.0.0.1:9443", names); got != tc.want {
				t.Fatalf("proxyTarget(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// A client with the proxy as HTTPS_PROXY reaches the front door under the
// registry's name: the TLS server name and Host are the registry's.
func TestFrontDoorProxyTunnelsRegistryNames(t *testing.T) {
	var host, sni string
	fd := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, sni = r.Host, r.TLS.ServerName
		_, _ = io.WriteString(w, "front door")
	}))
	fd.StartTLS()
	defer fd.Close()
	p, err := startFrontDoorProxy(fd.Listener.Addr().String(), []string{"*.azurecr.io"})
	if err != nil {
		t.Fatal(err)
	}
	proxyURL, _ := url.Parse("http://" + p.Addr())
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // httptest's certificate names example.com
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://podidacr.azurecr.io/v2/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "front door" || host != "podidacr.azurecr.io" || sni != "podidacr.azurecr.io" {
		t.Fatalf("body %q host %q server name %q", body, host, sni)
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := (&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}, Timeout: 2 * time.Second}).Get("https://podidacr.azurecr.io/v2/"); err == nil {
		t.Fatal("the proxy still answers after close")
	}
}

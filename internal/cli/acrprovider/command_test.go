package acrprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

// nodeWorld is cloudtest.ACRNodeWorld with the cluster attached to the
// registry: AcrPull for the kubelet identity on podidacr.
const nodeWorld = cloudtest.ACRNodeWorld + `    roleAssignments:
      - {principal: kubelet, role: AcrPull, scope: registry/podidacr}
`

// exec runs the command as the kubelet does: the request on stdin, the
// azure.json path as the argument, and the embedded cloud's addresses in
// flags. It returns stdout and the error main would print to stderr.
func exec(t *testing.T, e *cloudtest.Env, azureJSON, image string) (string, error) {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out, stderr bytes.Buffer
	cmd.SetIn(strings.NewReader(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"` + image + `"}`))
	cmd.SetOut(&out)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{azureJSON}, e.NodeFlags(t)...))
	err := cmd.Execute()
	return out.String(), err
}

func TestTheKubeletsExecPullsTheImage(t *testing.T) {
	e := cloudtest.StartYAMLWith(t, nodeWorld, cloudtest.Options{StateDir: t.TempDir()})
	digest := e.PushRandomImage(t, "podidacr", "app/web", "v1")
	kubelet := e.Identity(t, "kubelet")
	azureJSON := cloudtest.WriteAzureJSON(t, acrcred.AzureConfig{Cloud: "AzurePublicCloud", TenantID: e.TenantID, AADClientID: "msi", AADClientSecret: "msi",
		UseManagedIdentityExtension: true, UserAssignedIdentityID: kubelet.ClientID})

	out, err := exec(t, e, azureJSON, "podidacr.azurecr.io/app/web:v1")
	if err != nil {
		t.Fatalf("provider: %v\n%s", err, out)
	}
	var resp credv1.CredentialProviderResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.Kind != "CredentialProviderResponse" || resp.APIVersion != acrcred.APIVersion {
		t.Fatalf("stdout is not a CredentialProviderResponse: %v\n%s", err, out)
	}
	a := resp.Auth["podidacr.azurecr.io"]
	ref, _ := name.ParseReference("podidacr.azurecr.io/app/web:v1")
	got, err := remote.Image(ref, remote.WithTransport(e.RegistryTransport(t)), remote.WithAuth(&authn.Basic{Username: a.Username, Password: a.Password}))
	if err != nil {
		t.Fatalf("pull with the answered credentials: %v", err)
	}
	if gd, _ := got.Digest(); gd != digest {
		t.Fatalf("pulled %s", gd)
	}

	// Another registry: success, nothing.
	out, err = exec(t, e, azureJSON, "docker.io/library/nginx:1.27")
	if err != nil || strings.TrimSpace(out) != `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"0s"}` {
		t.Fatalf("non-ACR image: %v\n%s", err, out)
	}

	// A node whose identity IMDS does not know: an error with cause and fix, no stdout.
	bad := cloudtest.WriteAzureJSON(t, acrcred.AzureConfig{TenantID: e.TenantID, UseManagedIdentityExtension: true, UserAssignedIdentityID: "0b4c3a8e-0000-4000-8000-000000000000"})
	out, err = exec(t, e, bad, "podidacr.azurecr.io/app/web:v1")
	if err == nil || out != "" || !strings.Contains(err.Error(), "cause: IMDS does not know the kubelet identity 0b4c3a8e-0000-4000-8000-000000000000") {
		t.Fatalf("unknown identity: %v\nstdout %q", err, out)
	}
}

func TestArgumentsAreCheckedBeforeAnyIO(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"azure.json twice": {[]string{"/a.json", "--azure-config", "/b.json"}, "azure.json named twice (/a.json and --azure-config /b.json); give it once"},
		"a bad mirror":     {[]string{"/a.json", "--registry-mirror", "mcr.microsoft.com"}, `--registry-mirror: "mcr.microsoft.com" is not source:target`},
		"a missing file":   {[]string{filepath.Join(t.TempDir(), "azure.json")}, "read azure.json: open"},
		"two arguments":    {[]string{"/a.json", "/b.json"}, "accepts at most 1 arg(s)"},
		"a bad front door": {[]string{"/a.json", "--front-door", "nohostport"}, `--front-door "nohostport" is not host:port`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := newCommand(context.Background(), func(string) string { return "" }, acrcred.Deps{})
			cmd.SetIn(strings.NewReader(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.azurecr.io/a:1"}`))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SetArgs(tc.args)
			if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

package cloudtest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/cloud"
)

// ACRNodeWorld is an AKS node resource group as the kubelet's credential
// provider sees it: the node pool's scale set carrying the kubelet
// identity, and registry podidacr, not attached (the kubelet has no
// AcrPull). It ends inside the tenant, so a test may append tenant-level
// keys such as roleAssignments.
const ACRNodeWorld = `
tenants:
  - id: 11111111-0000-0000-0000-000000000001
    subscriptions:
      - id: 22222222-0000-0000-0000-000000000001
        resourceGroups:
          - name: MC_rg
            location: westus2
            identities:
              - name: kubelet
            scaleSets:
              - {name: aks-nodepool1-vmss, capacity: 1, identities: [kubelet]}
            registries:
              - name: podidacr
                sku: Premium
`

// Identity is the user-assigned identity called name, e.g. the node's
// kubelet identity whose client ID goes into azure.json.
func (e *Env) Identity(t testing.TB, name string) cloud.Identity {
	t.Helper()
	for _, i := range e.Cloud.Snapshot().Identities {
		if i.Name == name {
			return *i
		}
	}
	t.Fatalf("no identity %s", name)
	return cloud.Identity{}
}

// NodeFlags are the flags that aim podid's node-side ACR commands
// (acr-provider, check-acr) at this cloud rather than Azure: Azure AD and
// the registries through the loopback front door, the cloud's CA, and the
// first instance's IMDS. The cloud needs a StateDir for its CA file.
func (e *Env) NodeFlags(t testing.TB) []string {
	t.Helper()
	frontDoor, err := e.Cloud.LoopbackFrontDoor()
	if err != nil {
		t.Fatal(err)
	}
	in := e.Cloud.Instances()
	if len(in) == 0 || e.Cloud.CAPath() == "" {
		t.Fatalf("node flags need an instance and a StateDir; instances %+v, CA %q", in, e.Cloud.CAPath())
	}
	return []string{"--front-door", frontDoor, "--ca-bundle", e.Cloud.CAPath(), "--imds-endpoint", in[0].IMDSURL}
}

// PushRandomImage pushes a random image to registry as repo:tag and
// returns its digest, to compare with what a pull gets. It has two layers
// so that a pull fetches more than one blob.
func (e *Env) PushRandomImage(t testing.TB, registry, repo, tag string) v1.Hash {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Cloud.PushImage(registry, repo, tag, img)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// RegistryTransport reaches <name>.azurecr.io (and Azure AD's names)
// through the cloud's front door, trusting its CA. Its idle connections
// are closed when t ends, before the cloud stops, so none outlives it.
func (e *Env) RegistryTransport(t testing.TB) *http.Transport {
	t.Helper()
	tr, err := e.Cloud.RegistryTransport()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// WriteAzureJSON writes cfg as a node's azure.json in a temporary
// directory and returns its path, for commands that read the file.
func WriteAzureJSON(t testing.TB, cfg acrcred.AzureConfig) string {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "azure.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

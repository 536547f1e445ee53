package acrcred_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

// nodeWorld is an AKS node resource group: a kubelet identity on a scale
// set, another identity the node does not carry, and two service
// principals, one whose only secret has expired.
const nodeWorld = `
tenants:
  - id: 11111111-0000-0000-0000-000000000001
    subscriptions:
      - id: 22222222-0000-0000-0000-000000000001
        resourceGroups:
          - name: MC_rg
            location: westus2
            identities:
              - name: kubelet
              - name: elsewhere
            scaleSets:
              - {name: aks-nodepool1-vmss, capacity: 1, identities: [kubelet]}
    applications:
      - {name: kubelet-sp, secrets: [{value: sp-secret}]}
      - {name: expired-sp, secrets: [{value: old-secret, endDate: 2020-01-01T00:00:00Z}]}
`

const (
	sub      = "22222222-0000-0000-0000-000000000001"
	nodeRG   = "MC_rg"
	regName  = "podidacr"
	regLogin = "podidacr.azurecr.io"
)

// node is a cloud with registry podidacr holding app/web:v1, seen from the
// scale set's instance.
type node struct {
	env *cloudtest.Env
	reg cloud.Registry
	tr  *http.Transport
	// imds reaches the instance's IMDS at Azure's own 169.254.169.254.
	imds   *http.Client
	digest v1.Hash
}

func startNode(t testing.TB, spec cloud.RegistrySpec) *node {
	t.Helper()
	env := cloudtest.StartYAML(t, nodeWorld)
	spec.SubscriptionID, spec.ResourceGroup, spec.Name = sub, nodeRG, regName
	if spec.SKU == "" {
		spec.SKU = "Premium"
	}
	reg, err := env.Cloud.PutRegistry(spec)
	if err != nil {
		t.Fatal(err)
	}
	d := env.PushRandomImage(t, reg.Name, "app/web", "v1")
	in := env.Cloud.Instances()
	if len(in) != 1 {
		t.Fatalf("instances = %+v", in)
	}
	return &node{env: env, reg: reg, tr: env.RegistryTransport(t), imds: env.IMDSClient(t, in[0].Name), digest: d}
}

func (n *node) identity(t testing.TB, name string) cloud.Identity {
	t.Helper()
	return n.env.Identity(t, name)
}

func (n *node) app(t testing.TB, name string) cloud.Application {
	t.Helper()
	a, ok := n.env.Cloud.Application(name)
	if !ok {
		t.Fatalf("no application %s", name)
	}
	return a
}

// msiConfig is AKS's azure.json for a managed-identity node.
func (n *node) msiConfig(t testing.TB, identity string) acrcred.AzureConfig {
	return acrcred.AzureConfig{Cloud: "AzurePublicCloud", TenantID: n.env.TenantID, SubscriptionID: sub, ResourceGroup: nodeRG, Location: "westus2",
		AADClientID: "msi", AADClientSecret: "msi", UseManagedIdentityExtension: true, UserAssignedIdentityID: n.identity(t, identity).ClientID}
}

func (n *node) spConfig(t testing.TB, app, secret string) acrcred.AzureConfig {
	return acrcred.AzureConfig{Cloud: "AzurePublicCloud", TenantID: n.env.TenantID, AADClientID: n.app(t, app).AppID, AADClientSecret: secret}
}

// client runs the provider on the node with Azure's default endpoints:
// IMDS at 169.254.169.254 (the instance's listener), Azure AD and the
// registry at Azure's own names (the front door).
func (n *node) client(t testing.TB, cfg acrcred.AzureConfig, mirror string, lookup func(context.Context, string) ([]string, error)) *acrcred.Client {
	t.Helper()
	if lookup == nil {
		lookup = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
	}
	o := acrcred.NewOptions(func(string) string { return "" })
	o.RegistryMirror = mirror
	c, err := acrcred.New(cfg, *o, acrcred.Deps{HTTPS: &http.Client{Transport: n.tr}, IMDS: n.imds, Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (n *node) grant(t testing.TB, principal, role string) {
	t.Helper()
	if _, err := n.env.Cloud.GrantRole(principal, role, n.reg.ID); err != nil {
		t.Fatal(err)
	}
}

// pull pulls ref (manifest and every layer) with the response's
// credentials for the image's registry, as the runtime does.
func (n *node) pull(t testing.TB, resp *credv1.CredentialProviderResponse, ref string) error {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := resp.Auth[r.Context().RegistryStr()]
	if !ok {
		t.Fatalf("no credentials for %s in %v", r.Context().RegistryStr(), keys(resp.Auth))
	}
	img, err := remote.Image(r, remote.WithTransport(n.tr), remote.WithAuth(&authn.Basic{Username: a.Username, Password: a.Password}))
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		_ = rc.Close()
		if err != nil {
			return err
		}
	}
	if d, _ := img.Digest(); d != n.digest {
		t.Fatalf("pulled %s, pushed %s", d, n.digest)
	}
	return nil
}

func keys(m map[string]credv1.AuthConfig) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func status(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

var errNoSuchHost = &net.DNSError{Err: "no such host", Name: regLogin, IsNotFound: true}

package cloud

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/podid/podid/internal/acrcred"
	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/authz"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

// acrWorld is the AKS node resource group of cloudtest.ACRNodeWorld in this
// package's tenant, with a second registry in rbac-abac mode, where AcrPull
// does not count.
const acrWorld = `
tenants:
  - id: 2e319086-9a26-46a3-865f-615bed576786
    subscriptions:
      - id: 7e242177-ef0b-431f-8c76-e40907843aa7
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
              - name: abacacr
                roleAssignmentMode: rbac-abac
`

// kubeletCheck runs check-acr's steps for podidacr.azurecr.io/app/web:v1
// as the node's kubelet identity, then pulls the image with the
// provider's credentials; it returns the report and whether both worked.
func kubeletCheck(t *testing.T, e *cloudtest.Env, kubelet embedded.Identity) (string, bool) {
	t.Helper()
	tr := e.RegistryTransport(t)
	o := acrcred.NewOptions(func(string) string { return "" })
	o.IMDSEndpoint = e.Cloud.Instances()[0].IMDSURL
	cfg := acrcred.AzureConfig{TenantID: e.TenantID, UseManagedIdentityExtension: true, UserAssignedIdentityID: kubelet.ClientID}
	c, err := acrcred.New(cfg, *o, acrcred.Deps{HTTPS: &http.Client{Transport: tr}, IMDS: &http.Client{},
		Lookup: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	login, im, _ := acrcred.ResolveTarget("", "podidacr.azurecr.io/app/web:v1", ".azurecr.io", acrcred.RegistrySuffixes, nil)
	res := c.Check(context.Background(), login, im)
	v, ok := acrcred.Verdict(res, login, im)
	report := acrcred.Format(res, v)
	resp, err := c.Credentials(context.Background(), im.String())
	if err != nil {
		t.Fatalf("the provider refused: %v", err)
	}
	a := resp.Auth[login]
	ref, _ := name.ParseReference(im.String())
	img, err := remote.Image(ref, remote.WithTransport(tr), remote.WithAuth(&authn.Basic{Username: a.Username, Password: a.Password}))
	if err == nil {
		_, err = img.RawConfigFile()
	}
	if (err == nil) != ok {
		t.Fatalf("check-acr says ok=%v but the pull gives %v:\n%s", ok, err, report)
	}
	return report, ok
}

func TestACRAttachAndDetachDecideThePull(t *testing.T) {
	e := cloudtest.StartYAMLWith(t, acrWorld, cloudtest.Options{StateDir: t.TempDir()})
	e.PushRandomImage(t, "podidacr", "app/web", "v1")
	kubelet := e.Identity(t, "kubelet")
	reg, _ := e.Cloud.Registry("podidacr")
	acrPull, _ := authz.LookupRole(authz.Builtins(), "AcrPull")
	assignments := func() int {
		n := 0
		for _, a := range e.Cloud.Snapshot().RoleAssignments {
			if a.PrincipalID == kubelet.PrincipalID && strings.EqualFold(a.RoleDefinitionID, acrPull.ID) && a.Scope == reg.ID {
				n++
			}
		}
		return n
	}

	if out, ok := kubeletCheck(t, e, kubelet); ok || !strings.Contains(out, "FAIL  pull-token") {
		t.Fatalf("before attach:\n%s", out)
	}
	// By name, then again by client ID (as azure.json names it) and login server: one assignment.
	out, err := cloudCommand(t, e, "acr", "attach", "--registry", "podidacr", "--principal", "kubelet")
	if err != nil || assignments() != 1 || !strings.HasPrefix(out, "attached registry podidacr: kubelet (object id "+kubelet.PrincipalID+") has AcrPull at "+reg.ID) {
		t.Fatalf("attach: %v, %d assignments\n%s", err, assignments(), out)
	}
	out, err = cloudCommand(t, e, "acr", "attach", "--registry", "podidacr.azurecr.io", "--principal", kubelet.ClientID)
	if err != nil || assignments() != 1 || !strings.HasPrefix(out, "registry podidacr is already attached") {
		t.Fatalf("attach again: %v, %d assignments\n%s", err, assignments(), out)
	}
	if out, ok := kubeletCheck(t, e, kubelet); !ok || !strings.Contains(out, "The kubelet can pull podidacr.azurecr.io/app/web:v1.") {
		t.Fatalf("after attach:\n%s", out)
	}

	out, err = cloudCommand(t, e, "acr", "detach", "--registry", reg.ID, "--principal", kubelet.PrincipalID)
	if err != nil || assignments() != 0 || !strings.HasPrefix(out, "detached registry podidacr: removed 1 AcrPull assignment(s)") {
		t.Fatalf("detach: %v, %d assignments\n%s", err, assignments(), out)
	}
	out, err = cloudCommand(t, e, "acr", "detach", "--registry", "podidacr", "--principal", "kubelet")
	if err != nil || !strings.HasPrefix(out, "registry podidacr was not attached") {
		t.Fatalf("detach again: %v\n%s", err, out)
	}
	if out, ok := kubeletCheck(t, e, kubelet); ok || !strings.Contains(out, "podid cloud acr attach --registry podidacr --principal "+kubelet.PrincipalID) {
		t.Fatalf("after detach:\n%s", out)
	}
}

func TestACRAttachRefusalsAndNotes(t *testing.T) {
	e := cloudtest.StartYAMLWith(t, acrWorld, cloudtest.Options{StateDir: t.TempDir()})
	cases := map[string]struct {
		args    []string
		wantOut string
		wantErr string
	}{
		"an ABAC registry gets AcrPull and the note that it is ignored": {
			args:    []string{"attach", "--registry", "abacacr", "--principal", "kubelet"},
			wantOut: "note: abacacr uses rbac-abac mode, which ignores AcrPull; for pulls grant Container Registry Repository Reader"},
		"an unknown registry lists the ones there are": {
			args:    []string{"attach", "--registry", "nosuchacr", "--principal", "kubelet"},
			wantErr: "--registry: ACR nosuchacr not found; the cloud has podidacr, abacacr"},
		"an unknown principal": {
			args:    []string{"detach", "--registry", "podidacr", "--principal", "nobody"},
			wantErr: `object ID "nobody"`},
		"both flags are required": {
			args:    []string{"attach", "--registry", "podidacr"},
			wantErr: "--registry and --principal are required"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := cloudCommand(t, e, append([]string{"acr"}, tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out, tc.wantOut) {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

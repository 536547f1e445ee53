package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/authz"
)

func TestPlanGivesRealNodesTheAttachedRegistry(t *testing.T) {
	withoutRegistries := func(st *cloud.State) { st.Registries = nil }
	detached := func(st *cloud.State) {
		st.RoleAssignments = slices.DeleteFunc(slices.Clone(st.RoleAssignments), func(a authz.Assignment) bool {
			return strings.HasSuffix(a.Scope, "/registries/podidacr")
		})
	}
	cases := map[string]struct {
		realNodes int
		change    func(*cloud.State)
		wantNil   bool
		registry  string // pushed into; "" for none
		attached  bool
	}{
		"without real nodes nothing pulls from a registry":    {realNodes: 0, wantNil: true},
		"the built-in world attaches podidacr to the kubelet": {realNodes: 1, registry: "podidacr", attached: true},
		"a registry without AcrPull for the kubelet is not attached": {
			realNodes: 1, change: detached, registry: "podidacr"},
		"a world without a registry still gives the nodes the provider": {realNodes: 1, change: withoutRegistries},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := input(t)
			in.RealNodes = c.realNodes
			if c.change != nil {
				c.change(&in.World)
			}
			p, err := MakePlan(in)
			if err != nil {
				t.Fatal(err)
			}
			a := p.ACR
			if c.wantNil {
				if a != nil {
					t.Fatalf("ACR %+v, want none", a)
				}
				return
			}
			if a == nil {
				t.Fatal("the real nodes get no credential provider")
			}
			if a.KubeletIdentity != "aks-system-agentpool" || a.KubeletClientID == "" || a.FrontDoor != "10.254.0.1:443" {
				t.Errorf("kubelet identity %s (client %q), front door %s", a.KubeletIdentity, a.KubeletClientID, a.FrontDoor)
			}
			if a.Registry != c.registry || a.Attached != c.attached {
				t.Errorf("registry %q attached %t, want %q attached %t", a.Registry, a.Attached, c.registry, c.attached)
			}
			if c.registry == "" {
				if len(a.Images) != 0 || len(a.LoginServers) != 0 {
					t.Errorf("images %v and login servers %v without a registry", a.Images, a.LoginServers)
				}
				return
			}
			want := []string{"podidacr.azurecr.io/pause:latest", "podidacr.azurecr.io/busybox:latest", "podidacr.azurecr.io/kvreader:latest"}
			if !slices.Equal(a.Images, want) || !slices.Equal(a.LoginServers, []string{"podidacr.azurecr.io"}) {
				t.Errorf("images %v, login servers %v; want %v", a.Images, a.LoginServers, want)
			}
		})
	}
}

func TestNextCommandsCheckAndBreakTheRegistryPull(t *testing.T) {
	rec := &Record{StateDir: "/s", Kubeconfig: "/s/kubeconfig", CloudCA: "/s/run/cloud/ca.pem", ACR: &ACRRecord{
		Registry: "podidacr", LoginServer: "podidacr.azurecr.io", KubeletIdentity: "aks-system-agentpool",
		Images:      []string{"podidacr.azurecr.io/pause:latest", "podidacr.azurecr.io/busybox:latest"},
		AzureConfig: "/s/run/node0/azure.json", IMDSEndpoint: "http://127.0.0.1:4242", FrontDoor: "10.254.0.1:443",
	}}
	var b strings.Builder
	if err := RenderNext(&b, rec, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"podid check-acr --image podidacr.azurecr.io/busybox:latest --azure-config /s/run/node0/azure.json --imds-endpoint http://127.0.0.1:4242 --ca-bundle /s/run/cloud/ca.pem --front-door 10.254.0.1:443\n",
		"podid cloud acr detach --state-dir /s --registry podidacr --principal aks-system-agentpool ",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("next commands lack %q:\n%s", want, b.String())
		}
	}
	rec.ACR = nil
	b.Reset()
	if err := RenderNext(&b, rec, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "check-acr") {
		t.Errorf("a run without a registry suggests check-acr:\n%s", b.String())
	}
}

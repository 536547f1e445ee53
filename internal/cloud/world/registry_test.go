package world

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/podid/podid/internal/cloud"
)

// writeLayout makes an OCI layout with one random image named ref.
func writeLayout(t *testing.T, dir, ref string) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
		t.Fatal(err)
	}
}

const registryHead = "tenants:\n  - id: 2e319086-9a26-46a3-865f-615bed576786\n    subscriptions:\n      - id: 7e242177-ef0b-431f-8c76-e40907843aa7\n        resourceGroups:\n          - name: rg\n            registries:\n"

func TestRegistriesBuild(t *testing.T) {
	dir := t.TempDir()
	writeLayout(t, filepath.Join(dir, "images", "web"), "v1")
	body := registryHead + `              - name: podidacr
                sku: Premium
                roleAssignmentMode: rbac-abac
                armTokens: disabled
                networkRules: {defaultAction: Deny, ipRules: [10.0.0.0/8, 192.168.1.7]}
                images: [{repository: app/web, tag: v1, layout: images/web}]
    applications: [{name: ci}]
    roleAssignments:
      - principal: ci
        role: Container Registry Repository Reader
        scope: registry/podidacr
        condition: "@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'app/web'"
`
	file := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := w.State()
	if len(st.Registries) != 1 {
		t.Fatalf("registries = %+v", st.Registries)
	}
	r := st.Registries[0]
	if r.SKU != "Premium" || r.RoleAssignmentMode != cloud.RoleModeABAC || !r.ARMTokensDisabled || r.DefaultAction != "Deny" || len(r.IPRules) != 2 {
		t.Fatalf("registry = %+v", r)
	}
	if len(r.Images) != 1 || r.Images[0].Layout != filepath.Join(dir, "images", "web") {
		t.Fatalf("images = %+v (the layout must resolve against the world file's directory)", r.Images)
	}
	a := st.RoleAssignments[0]
	if a.Scope != r.ID || a.ConditionVersion != "2.0" || !strings.Contains(a.Condition, "'app/web'") {
		t.Fatalf("assignment = %+v", a)
	}
}

func TestBadRegistriesNameLineAndField(t *testing.T) {
	dir := t.TempDir()
	writeLayout(t, filepath.Join(dir, "two"), "a")
	p, _ := layout.FromPath(filepath.Join(dir, "two"))
	img, _ := random.Image(64, 1)
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "b"})); err != nil {
		t.Fatal(err)
	}
	field := "tenants[0].subscriptions[0].resourceGroups[0].registries[0]"
	cases := map[string]struct{ yaml, want string }{
		"a name with a hyphen": {"              - name: my-acr\n",
			"w.yaml:8: " + field + ".name: \"my-acr\" is not a valid registry name (5-50 letters and digits)"},
		"a name too short": {"              - name: acr\n", field + ".name: \"acr\" is not a valid registry name"},
		"an unknown sku": {"              - name: podidacr\n                sku: Gold\n",
			"w.yaml:9: " + field + ".sku: \"Gold\" is not one of Basic, Standard, Premium"},
		"an unknown mode":                        {"              - name: podidacr\n                roleAssignmentMode: abac\n", field + ".roleAssignmentMode: \"abac\" is not one of rbac, rbac-abac"},
		"network rules on Basic":                 {"              - name: podidacr\n                networkRules: {defaultAction: Deny}\n", "network rules and disabled public access need sku Premium, not Basic"},
		"anonymous pull on Basic":                {"              - name: podidacr\n                anonymousPull: true\n", "anonymous pull needs sku Standard or Premium"},
		"an IPv6 rule":                           {"              - name: podidacr\n                sku: Premium\n                networkRules: {defaultAction: Deny, ipRules: [\"::1\"]}\n", field + ".networkRules.ipRules[0]: ip rule \"::1\" is not an IPv4 address or CIDR range"},
		"a missing layout":                       {"              - name: podidacr\n                images: [{repository: app, tag: v1, layout: " + filepath.Join(dir, "none") + "}]\n", field + ".images[0].layout: open OCI layout"},
		"a layout with two manifests and no ref": {"              - name: podidacr\n                images: [{repository: app, tag: v1, layout: " + filepath.Join(dir, "two") + "}]\n", "holds 2 manifests; name one with ref"},
		"an upper-case repository":               {"              - name: podidacr\n                images: [{repository: App, tag: v1, layout: x}]\n", field + ".images[0].repository: \"App\" is not a valid repository name"},
		"an unknown key":                         {"              - name: podidacr\n                firewall: on\n", "w.yaml:9: firewall: unknown field; allowed:"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("w.yaml", []byte(registryHead+tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

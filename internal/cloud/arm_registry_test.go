package cloud_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
)

// armDo sends one Resource Manager request as app and decodes the answer.
func armDo(t *testing.T, e *registryEnv, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.env.URL+path+"?api-version=2025-11-01", rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.env.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func armCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestARMRegistries(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{})
	rgPath := "/subscriptions/" + regSub + "/resourceGroups/" + regRG
	path := rgPath + "/providers/Microsoft.ContainerRegistry/registries/"
	tok := e.aadToken(t, "pusher", "pusher-secret", "https://management.azure.com/.default")
	create := map[string]any{"location": "westus2", "sku": map[string]string{"name": "Standard"},
		"properties": map[string]any{"anonymousPullEnabled": true, "roleAssignmentMode": "AbacRepositoryPermissions"}}

	if status, out := armDo(t, e, tok, http.MethodPut, path+"teamacr", create); status != http.StatusForbidden || armCode(out) != "AuthorizationFailed" ||
		!strings.Contains(out["error"].(map[string]any)["message"].(string), "Microsoft.ContainerRegistry/registries/write") {
		t.Fatalf("PUT without a role = %d %v", status, out)
	}
	if _, err := e.env.Cloud.GrantRole(e.appObjectID(t, "pusher"), "Contributor", "/subscriptions/"+regSub); err != nil {
		t.Fatal(err)
	}
	status, out := armDo(t, e, tok, http.MethodPut, path+"teamacr", create)
	props, _ := out["properties"].(map[string]any)
	if status != http.StatusCreated || props["loginServer"] != "teamacr.azurecr.io" || props["anonymousPullEnabled"] != true ||
		props["roleAssignmentMode"] != "AbacRepositoryPermissions" || props["provisioningState"] != "Succeeded" {
		t.Fatalf("PUT = %d %v", status, out)
	}
	status, out = armDo(t, e, tok, http.MethodPatch, path+"teamacr", map[string]any{"sku": map[string]string{"name": "Premium"},
		"properties": map[string]any{"networkRuleSet": map[string]any{"defaultAction": "Deny", "ipRules": []map[string]string{{"action": "Allow", "value": "10.0.0.0/8"}}}}})
	props, _ = out["properties"].(map[string]any)
	if status != http.StatusOK || out["sku"].(map[string]any)["name"] != "Premium" || props["networkRuleSet"].(map[string]any)["defaultAction"] != "Deny" {
		t.Fatalf("PATCH = %d %v", status, out)
	}
	if status, out = armDo(t, e, tok, http.MethodGet, path+"teamacr", nil); status != http.StatusOK || out["id"] != rgPath+"/providers/Microsoft.ContainerRegistry/registries/teamacr" {
		t.Fatalf("GET = %d %v", status, out)
	}
	if status, out = armDo(t, e, tok, http.MethodGet, strings.TrimSuffix(path, "/"), nil); status != http.StatusOK || len(out["value"].([]any)) != 2 {
		t.Fatalf("list in group = %d %v", status, out)
	}
	if status, out = armDo(t, e, tok, http.MethodGet, "/subscriptions/"+regSub+"/providers/Microsoft.ContainerRegistry/registries", nil); status != http.StatusOK || len(out["value"].([]any)) != 2 {
		t.Fatalf("list in subscription = %d %v", status, out)
	}

	refusals := map[string]struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		"a name with a hyphen":       {"my-acr", create, http.StatusBadRequest, "InvalidResourceName"},
		"a name of four characters":  {"acr1", create, http.StatusBadRequest, "InvalidResourceName"},
		"a name of 51 characters":    {strings.Repeat("a", 51), create, http.StatusBadRequest, "InvalidResourceName"},
		"a name another group holds": {"/subscriptions/" + regSub + "/resourceGroups/rg2/providers/Microsoft.ContainerRegistry/registries/podidacr", map[string]any{"location": "westus2", "sku": map[string]string{"name": "Basic"}}, http.StatusConflict, "AlreadyInUse"},
		"an unknown sku":             {"goldacr", map[string]any{"location": "westus2", "sku": map[string]string{"name": "Gold"}}, http.StatusBadRequest, "InvalidSku"},
		"no location":                {"nolocacr", map[string]any{"sku": map[string]string{"name": "Basic"}}, http.StatusBadRequest, "LocationRequired"},
		"an unknown role mode":       {"modeacr", map[string]any{"location": "westus2", "sku": map[string]string{"name": "Basic"}, "properties": map[string]any{"roleAssignmentMode": "Abac"}}, http.StatusBadRequest, "InvalidRequestContent"},
		"network rules on Basic":     {"basicacr", map[string]any{"location": "westus2", "sku": map[string]string{"name": "Basic"}, "properties": map[string]any{"networkRuleSet": map[string]any{"defaultAction": "Deny"}}}, http.StatusBadRequest, "NetworkRuleSetNotSupported"},
		"an IPv6 rule":               {"ipv6acr", map[string]any{"location": "westus2", "sku": map[string]string{"name": "Premium"}, "properties": map[string]any{"networkRuleSet": map[string]any{"defaultAction": "Deny", "ipRules": []map[string]string{{"value": "::1"}}}}}, http.StatusBadRequest, "InvalidIpRule"},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			target := path + tc.name
			if strings.HasPrefix(tc.name, "/") {
				target = tc.name
			}
			if status, out := armDo(t, e, tok, http.MethodPut, target, tc.body); status != tc.status || armCode(out) != tc.code {
				t.Fatalf("PUT %s = %d %v, want %d %s", tc.name, status, out, tc.status, tc.code)
			}
		})
	}
	if status, out = armDo(t, e, tok, http.MethodDelete, path+"teamacr", nil); status != http.StatusOK {
		t.Fatalf("DELETE = %d %v", status, out)
	}
	if status, out = armDo(t, e, tok, http.MethodGet, path+"teamacr", nil); status != http.StatusNotFound || armCode(out) != "ResourceNotFound" {
		t.Fatalf("GET after DELETE = %d %v", status, out)
	}
	if status, _ = armDo(t, e, tok, http.MethodDelete, path+"teamacr", nil); status != http.StatusNoContent {
		t.Fatalf("second DELETE = %d, want 204", status)
	}
}

// TestWorldRegistryImages loads an image from an OCI layout named in the
// world file and pulls it with a repository-scoped ABAC role from the same file.
func TestWorldRegistryImages(t *testing.T) {
	dir := t.TempDir()
	p, err := layout.Write(filepath.Join(dir, "web"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(256, 2)
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "1.0"})); err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(registryWorld, "          - name: rg2\n", "          - name: rg2\n"+`            registries:
              - name: worldacr
                roleAssignmentMode: rbac-abac
                images: [{repository: app/web, tag: "1.0", layout: web}, {repository: other, tag: "1.0", layout: web}]
`, 1) + `    roleAssignments:
      - principal: puller
        role: Container Registry Repository Reader
        scope: registry/worldacr
        condition: "@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'app/web'"
`
	file := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := world.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	env := cloudtest.Start(t, w)
	reg, _ := env.Cloud.Registry("worldacr")
	tr, err := env.Cloud.RegistryTransport()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	e := &registryEnv{env: env, reg: reg, tr: tr, client: &http.Client{Transport: tr}}
	kc := keychain{user: "00000000-0000-0000-0000-000000000000", password: e.refreshToken(t, "puller", "puller-secret")}
	got, err := e.pull("app/web:1.0", kc)
	if err != nil {
		t.Fatalf("pull of the world's image: %v", err)
	}
	if mustDigest(t, got) != mustDigest(t, img) {
		t.Fatal("pulled another image than the layout holds")
	}
	_, err = e.pull("other:1.0", kc)
	transportErr(t, err, http.StatusUnauthorized)
}

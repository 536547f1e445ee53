package cloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/faults"
	"github.com/podid/podid/internal/cloud/world"
)

func TestStatePersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	w, err := world.Parse("w", []byte(testWorld))
	if err != nil {
		t.Fatal(err)
	}
	first := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: dir})
	ident, _, err := first.Cloud.PutIdentity(nodeSub, nodeRG, "added-later", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Cloud.SetMachineIdentities(vmssName, []string{ident.ID}); err != nil {
		t.Fatal(err)
	}
	ca := first.Cloud.CAPEM()
	if err := first.Cloud.Close(); err != nil {
		t.Fatal(err)
	}
	second := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: dir})
	got, ok := second.Cloud.IdentityByName("added-later")
	if !ok || got.ClientID != ident.ClientID {
		t.Fatalf("identity lost across restart: %+v", got)
	}
	if ids := second.Cloud.MachineIdentities(vmssName); len(ids) != 1 || ids[0] != ident.ID {
		t.Fatalf("VMSS identities after restart: %v", ids)
	}
	if !bytes.Equal(ca, second.Cloud.CAPEM()) {
		t.Fatal("CA changed across restart")
	}
}

func TestFaultInjection(t *testing.T) {
	env := startWorld(t)
	imds := env.IMDSClient(t, vmssName+"_0")
	const path = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"

	// Through the admin endpoint: the next two IMDS token calls get 429 with Retry-After.
	rule := `{"match":"^imds GET /metadata/identity/oauth2/token$","times":2,"status":429,"retryAfter":3}`
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/admin/faults", strings.NewReader(rule))
	req.Header.Set("Authorization", "Bearer "+env.Cloud.AdminToken())
	resp, err := env.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add fault: %d", resp.StatusCode)
	}
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodGet, "http://"+cloudtest.IMDSAddress+path, nil)
		req.Header.Set("Metadata", "true")
		resp, err := imds.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
			t.Fatalf("call %d: %d Retry-After=%q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if status, _ := imdsGet(t, imds, path, true); status != http.StatusOK {
		t.Fatalf("third call: %d", status)
	}

	// From Go: a 503 on ARM VMSS reads, once.
	if _, err := env.Cloud.Faults().Add(faults.Rule{Match: `^arm GET .*/virtualMachineScaleSets/`, Times: 1, Status: 503}); err != nil {
		t.Fatal(err)
	}
	app, _ := env.Cloud.Application("deployer")
	tok, err := getToken(t, secretCred(t, env, app.AppID, "good-secret"), "https://management.azure.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/subscriptions/"+nodeSub+"/resourceGroups/"+nodeRG+"/providers/Microsoft.Compute/virtualMachineScaleSets/"+vmssName+"?api-version=2024-07-01", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := env.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := get(), get(); a != 503 || b != 200 {
		t.Fatalf("statuses %d then %d, want 503 then 200", a, b)
	}
}

func TestHealthMetricsAndInstances(t *testing.T) {
	env := startWorld(t)
	body := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, env.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+env.Cloud.AdminToken())
		resp, err := env.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	if body("/healthz") != "ok" || body("/readyz") != "ok" {
		t.Fatal("health endpoints")
	}
	var inst []cloud.Instance
	if err := json.Unmarshal([]byte(body("/admin/instances")), &inst); err != nil {
		t.Fatal(err)
	}
	if len(inst) != 3 || inst[0].Name != vmssName+"_0" || !strings.HasPrefix(inst[0].IMDSURL, "http://127.0.0.1:") {
		t.Fatalf("instances = %+v", inst)
	}
	_ = body("/" + tenantID + "/v2.0/.well-known/openid-configuration")
	if m := body("/metrics"); !strings.Contains(m, `podid_cloud_requests_total{code="200",service="aad"} 1`) {
		t.Fatalf("metrics lack request counter:\n%s", m)
	}
}

// BenchmarkStart measures Start with a fresh state dir (CA and signing key
// generated) and with an existing one (restart).
func BenchmarkStart(b *testing.B) {
	w, err := world.Parse("w", []byte(testWorld))
	if err != nil {
		b.Fatal(err)
	}
	st, _ := w.State()
	start := func(b *testing.B, dir string) {
		c, err := cloud.Start(context.Background(), cloud.Options{Seed: st, StateDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			start(b, b.TempDir())
		}
	})
	b.Run("restart", func(b *testing.B) {
		dir := b.TempDir()
		start(b, dir)
		for b.Loop() {
			start(b, dir)
		}
	})
}

// TestAdminAPIRequiresTheToken: the admin API grants roles and reads the
// whole state, so a local process without the token file gets nothing.
func TestAdminAPIRequiresTheToken(t *testing.T) {
	env := cloudtest.StartWith(t, nil, cloudtest.Options{StateDir: t.TempDir()})
	file, err := os.ReadFile(env.Cloud.AdminTokenPath())
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(env.Cloud.AdminTokenPath()); info.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file mode %v, want 0600", info.Mode().Perm())
	}
	for name, tc := range map[string]struct {
		auth string
		want int
	}{
		"no credential":            {"", http.StatusUnauthorized},
		"a wrong token":            {"Bearer " + strings.Repeat("0", 64), http.StatusUnauthorized},
		"the token, not as Bearer": {strings.TrimSpace(string(file)), http.StatusUnauthorized},
		"the token from the file":  {"Bearer " + strings.TrimSpace(string(file)), http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/admin/state", "/admin/instances"} {
				req, _ := http.NewRequest(http.MethodGet, env.URL+path, nil)
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				resp, err := env.HTTPClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Fatalf("%s: %d, want %d: %s", path, resp.StatusCode, tc.want, b)
				}
				if tc.want == http.StatusUnauthorized && !strings.Contains(string(b), env.Cloud.AdminTokenPath()) {
					t.Fatalf("%s: the refusal does not say where the token is: %s", path, b)
				}
			}
		})
	}
}

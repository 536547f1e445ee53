package cloud

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

const spWorld = `
tenants:
  - id: 2e319086-9a26-46a3-865f-615bed576786
    applications:
      - name: aks-kubelet-sp
        appId: 0c5d3f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f
        secrets:
          - value: expired-secret
            endDate: 2025-06-30T00:00:00Z
`

func TestSPCredentialResetPrintsANewSecretThatSignsIn(t *testing.T) {
	e := cloudtest.StartYAMLWith(t, spWorld, cloudtest.Options{StateDir: t.TempDir()})
	out, err := cloudCommand(t, e, "sp", "credential", "reset", "--id", "aks-kubelet-sp", "--append")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	var got struct{ AppID, Password, Tenant string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the output is not az's JSON: %v\n%s", err, out)
	}
	if got.AppID != "0c5d3f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f" || got.Tenant != "2e319086-9a26-46a3-865f-615bed576786" || got.Password == "" {
		t.Fatalf("reset printed app %q tenant %q and a password of %d characters", got.AppID, got.Tenant, len(got.Password))
	}
	app, _ := e.Cloud.Application("aks-kubelet-sp")
	if len(app.Secrets) != 2 || app.Secrets[1].Value != got.Password {
		t.Fatalf("with --append the application has %d secrets, the new one last; want 2", len(app.Secrets))
	}

	for args, want := range map[string]string{
		"sp credential reset":                               "--id is required",
		"sp credential reset --id nobody":                   "no application with that app ID or name",
		"sp credential reset --id aks-kubelet-sp --years 0": "--years must be at least 1",
	} {
		if out, err := cloudCommand(t, e, strings.Fields(args)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("podid cloud %s: %v\n%s; want an error with %q", args, err, out, want)
		}
	}
}

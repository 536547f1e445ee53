package cloud_test

import (
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud"
)

// az ad sp credential reset on a principal whose secret expired: the new
// secret signs in, and without --append the expired one is gone.
func TestResetAppSecretGivesANewSecretThatSignsIn(t *testing.T) {
	env := startWorld(t)
	expired, _ := env.Cloud.Application("expired-sp")
	if _, err := getToken(t, secretCred(t, env, expired.AppID, "old-secret"), "https://vault.azure.net/.default"); err == nil || !strings.Contains(err.Error(), "AADSTS7000222") {
		t.Fatalf("the world's expired secret: %v; want AADSTS7000222", err)
	}
	res, err := env.Cloud.ResetAppSecret("expired-sp", cloud.AdminSecretReset{Append: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.AppID != expired.AppID || res.Tenant != env.TenantID || len(res.Password) < 32 || res.Password == "old-secret" {
		t.Fatalf("reset = app %s tenant %s, a %d-character password; want the app, its tenant and a new long secret", res.AppID, res.Tenant, len(res.Password))
	}
	if _, err := getToken(t, secretCred(t, env, expired.AppID, res.Password), "https://vault.azure.net/.default"); err != nil {
		t.Fatalf("the new secret does not sign in: %v", err)
	}
	if app, _ := env.Cloud.Application(expired.AppID); len(app.Secrets) != 2 {
		t.Fatalf("with append the application has %d secrets, want the old and the new", len(app.Secrets))
	}

	res, err = env.Cloud.ResetAppSecret(expired.AppID, cloud.AdminSecretReset{})
	if err != nil {
		t.Fatal(err)
	}
	if app, _ := env.Cloud.Application(expired.AppID); len(app.Secrets) != 1 || app.Secrets[0].Value != res.Password {
		t.Fatalf("without append the application keeps %d secrets, want only the new one", len(app.Secrets))
	}
	if _, err := env.Cloud.ResetAppSecret("no-such-app", cloud.AdminSecretReset{}); err == nil || !strings.Contains(err.Error(), "no application with that app ID or name") {
		t.Fatalf("an unknown application: %v", err)
	}
}

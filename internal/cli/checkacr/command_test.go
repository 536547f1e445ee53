package checkacr

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

func checkACR(t *testing.T, e *cloudtest.Env, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(args, e.NodeFlags(t)...))
	err := cmd.Execute()
	return out.String(), err
}

func TestCheckACRCommand(t *testing.T) {
	e := cloudtest.StartYAMLWith(t, cloudtest.ACRNodeWorld, cloudtest.Options{StateDir: t.TempDir()})
	e.PushRandomImage(t, "podidacr", "app/web", "v1")
	kubelet := e.Identity(t, "kubelet")
	azureJSON := cloudtest.WriteAzureJSON(t, acrcred.AzureConfig{Cloud: "AzurePublicCloud", TenantID: e.TenantID, AADClientID: "msi", AADClientSecret: "msi",
		UseManagedIdentityExtension: true, UserAssignedIdentityID: kubelet.ClientID})

	// Without an image it stops after the exchange and claims no pull.
	out, err := checkACR(t, e, "podidacr", "--azure-config", azureJSON)
	if err != nil || !strings.Contains(out, "PASS  azure.json  managed identity with client ID "+kubelet.ClientID) ||
		!strings.Contains(out, "SKIP  dns         connections go to the front door") ||
		!strings.Contains(out, "PASS  exchange") || !strings.Contains(out, "SKIP  manifest    no --image") ||
		!strings.Contains(out, "Name an image with --image to check that it may pull it") {
		t.Fatalf("without --image: %v\n%s", err, out)
	}

	out, err = checkACR(t, e, "--image", "podidacr.azurecr.io/app/web:v1", "--azure-config", azureJSON)
	if err == nil || !strings.Contains(out, "FAIL  pull-token") || !strings.Contains(out, "fix:   podid cloud acr attach --registry podidacr --principal "+kubelet.PrincipalID) {
		t.Fatalf("without AcrPull: %v\n%s", err, out)
	}
	reg, _ := e.Cloud.Registry("podidacr")
	if _, err := e.Cloud.GrantRole(kubelet.PrincipalID, "AcrPull", reg.ID); err != nil {
		t.Fatal(err)
	}
	out, err = checkACR(t, e, "--image", "podidacr.azurecr.io/app/web:v1", "--azure-config", azureJSON)
	if err != nil || !strings.HasSuffix(out, "\nThe kubelet can pull podidacr.azurecr.io/app/web:v1.\n") {
		t.Fatalf("with AcrPull: %v\n%s", err, out)
	}

	// A missing azure.json is the first failing line.
	out, err = checkACR(t, e, "podidacr", "--azure-config", filepath.Join(t.TempDir(), "none.json"))
	if err == nil || !strings.Contains(out, "FAIL  azure.json") || !strings.Contains(out, "is this an Azure node? name the file with --azure-config") {
		t.Fatalf("missing azure.json: %v\n%s", err, out)
	}
}

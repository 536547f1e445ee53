package node

import (
	"strings"
	"testing"
)

func TestAzureJSONOfAServicePrincipalCluster(t *testing.T) {
	c := acrConfig(t)
	c.ACR.ServicePrincipal = &ServicePrincipal{ClientID: "0c5d3f4e-0000-4000-8000-000000000002", Secret: "sp-secret"}
	got, err := AzureJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"aadClientId": "0c5d3f4e-0000-4000-8000-000000000002"`, `"aadClientSecret": "sp-secret"`,
		`"useManagedIdentityExtension": false`, `"userAssignedIdentityID": ""`, `"tenantId": "11111111-0000-0000-0000-000000000001"`} {
		if !strings.Contains(got, want) {
			t.Errorf("azure.json lacks %s:\n%s", want, got)
		}
	}

	c.ACR.ServicePrincipal.Secret = ""
	if _, err := AzureJSON(c); err == nil || !strings.Contains(err.Error(), "aadClientSecret") {
		t.Fatalf("a service principal without a secret: %v; want aadClientSecret named as missing", err)
	}
}

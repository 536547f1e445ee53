package cloud_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// fuzzEndpoints are the embedded cloud's request decoders: the Azure AD
// token endpoint (form bodies, client assertions), ARM's identity and role
// writes (JSON bodies), and the admin API. None of them creates a
// federated credential, so no fuzzed assertion can make the cloud fetch an
// issuer's keys from anywhere.
var fuzzEndpoints = []struct {
	method, path, contentType string
	admin                     bool
}{
	{http.MethodPost, "/" + tenantID + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", false},
	{http.MethodPost, "/contoso/oauth2/token", "application/x-www-form-urlencoded", false},
	{http.MethodPatch, "/subscriptions/" + nodeSub + "/resourceGroups/" + nodeRG + "/providers/Microsoft.Compute/virtualMachineScaleSets/" + vmssName + "?api-version=2024-07-01", "application/json", false},
	{http.MethodPut, "/subscriptions/" + nodeSub + "/providers/Microsoft.Authorization/roleAssignments/0b5f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c?api-version=2022-04-01", "application/json", false},
	{http.MethodPost, "/admin/roleAssignments", "application/json", true},
	{http.MethodPut, "/admin/accessPolicies", "application/json", true},
}

// FuzzCloudRequests sends any body and query suffix to each decoder: the
// cloud must answer every one (a panic drops the connection) and never
// with 500.
func FuzzCloudRequests(f *testing.F) {
	f.Add(uint8(0), "", "grant_type=client_credentials&client_id=x&client_secret=y&scope=https%3A%2F%2Fvault.azure.net%2F.default")
	f.Add(uint8(0), "", "grant_type=client_credentials&client_id=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln&scope=a")
	f.Add(uint8(1), "", "grant_type=client_credentials&resource=https%3A%2F%2Fmanagement.azure.com%2F")
	f.Add(uint8(2), "", `{"identity":{"type":"UserAssigned","userAssignedIdentities":{"/x":{}}}}`)
	f.Add(uint8(2), "&x=1", `{"identity":{"type":"None","userAssignedIdentities":{"/x":null}}}`)
	f.Add(uint8(3), "", `{"properties":{"roleDefinitionId":"/x","principalId":"y"}}`)
	f.Add(uint8(4), "", `{"principalId":"a","role":"Reader","scope":"/subscriptions/x"}`)
	f.Add(uint8(5), "", `{"vault":"kv-rbac","objectId":"a","secrets":["get"]}`)
	env := startWorld(f)
	token := env.Cloud.AdminToken()
	f.Fuzz(func(t *testing.T, which uint8, query, body string) {
		ep := fuzzEndpoints[int(which)%len(fuzzEndpoints)]
		if strings.ContainsAny(query, " #\r\n\t") {
			return
		}
		req, err := http.NewRequestWithContext(t.Context(), ep.method, env.URL+ep.path+query, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ep.contentType)
		req.Header.Set("Authorization", "Bearer "+token) // ARM and AAD ignore or refuse it
		if !ep.admin {
			req.Header.Del("Authorization")
		}
		resp, err := env.HTTPClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s%s: no answer: %v", ep.method, ep.path, query, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s%s with %q: %d %s", ep.method, ep.path, query, body, resp.StatusCode, b)
		}
	})
}

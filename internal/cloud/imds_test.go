package cloud_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/podid/podid/internal/cloud/cloudtest"
)

func TestManagedIdentityCredential(t *testing.T) {
	env := startWorld(t)
	ident, _ := env.Cloud.IdentityByName("kubelet")
	opts := env.ClientOptions()
	opts.Transport = env.IMDSClient(t, vmssName+"_1")
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ClientID(kubeletID)})
	if err != nil {
		t.Fatal(err)
	}
	// A resource unique to this test: MSAL caches managed-identity tokens process-wide.
	tok, err := getToken(t, cred, "https://imds-test.example/.default")
	if err != nil {
		t.Fatal(err)
	}
	claims := env.VerifyToken(t, env.TenantID, tok)
	if claims["xms_mirid"] != ident.ID || claims["appid"] != kubeletID || claims["aud"] != "https://imds-test.example" {
		t.Fatalf("claims = %v", claims)
	}
}

func imdsGet(t *testing.T, c *http.Client, path string, metadata bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+cloudtest.IMDSAddress+path, nil)
	if metadata {
		req.Header.Set("Metadata", "true")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIMDSWire(t *testing.T) {
	env := startWorld(t)
	vmss := env.IMDSClient(t, vmssName+"_0")
	jump := env.IMDSClient(t, "jumpbox")
	app, _ := env.Cloud.IdentityByName("app-identity")
	const tokenPath = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"
	cases := map[string]struct {
		client   *http.Client
		path     string
		metadata bool
		status   int
		body     string // exact body, or prefix when it ends with "*"
	}{
		"no Metadata header is refused first, byte for byte": {vmss, "/metadata/identity/oauth2/token", false, 400,
			`{"error":"invalid_request","error_description":"Required metadata header not specified"}` + "\n"},
		"IMDSv2 platform metadata probe is 404": {vmss, "/metadata/identity/getplatformmetadata?cred-api-version=2.0", true, 404, "*"},
		"an identity not on the machine is not found": {vmss, tokenPath + "&client_id=" + app.ClientID, true, 400,
			`{"error":"invalid_request","error_description":"Identity not found"}` + "\n"},
		"the only user-assigned identity is the default": {vmss, tokenPath, true, 200, `{"access_token":"*`},
		"selection by msi_res_id":                        {vmss, tokenPath + "&msi_res_id=/subscriptions/" + nodeSub + "/resourceGroups/" + nodeRG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet", true, 200, `{"access_token":"*`},
		"selection by mi_res_id":                         {vmss, tokenPath + "&mi_res_id=/subscriptions/" + nodeSub + "/resourceGroups/" + nodeRG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet", true, 200, `{"access_token":"*`},
		"a VM's system-assigned identity is the default": {jump, tokenPath, true, 200, `{"access_token":"*`},
		"a missing resource is refused":                  {vmss, "/metadata/identity/oauth2/token?api-version=2018-02-01", true, 400, `{"error":"invalid_request"*`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, body := imdsGet(t, tc.client, tc.path, tc.metadata)
			match := body == tc.body
			if p, ok := strings.CutSuffix(tc.body, "*"); ok {
				match = strings.HasPrefix(body, p)
			}
			if status != tc.status || !match {
				t.Fatalf("got %d %s, want %d %s", status, body, tc.status, tc.body)
			}
		})
	}
	_, body := imdsGet(t, vmss, tokenPath, true)
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	order := []string{"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type"}
	last := -1
	for _, k := range order {
		if _, ok := raw[k].(string); !ok {
			t.Fatalf("field %s is not a string in %s", k, body)
		}
		i := strings.Index(body, `"`+k+`"`)
		if i < last {
			t.Fatalf("field %s out of order in %s", k, body)
		}
		last = i
	}
}

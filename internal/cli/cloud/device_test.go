package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/cloud/world"
)

const deviceWorld = `
tenants:
  - id: 2e319086-9a26-46a3-865f-615bed576786
    name: contoso
    users:
      - userPrincipalName: alice@contoso.com
        password: alice-pw
`

// startDeviceSignIn asks the cloud for a device code as kubelogin would and
// returns the device code and the user code it prints.
func startDeviceSignIn(t *testing.T, e *cloudtest.Env) (string, string) {
	t.Helper()
	resp, err := e.HTTPClient.PostForm(e.URL+"/"+e.TenantID+"/oauth2/v2.0/devicecode",
		url.Values{"client_id": {embedded.AKSClientAppID}, "scope": {embedded.AKSServerAppID + "/.default offline_access openid"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.UserCode == "" {
		t.Fatalf("devicecode: %v %+v", err, body)
	}
	return body.DeviceCode, body.UserCode
}

func pollOnce(t *testing.T, e *cloudtest.Env, deviceCode string) (int, string) {
	t.Helper()
	resp, err := e.HTTPClient.PostForm(e.URL+"/"+e.TenantID+"/oauth2/v2.0/token",
		url.Values{"grant_type": {"device_code"}, "client_id": {embedded.AKSClientAppID}, "device_code": {deviceCode}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if e, ok := body["error"].(string); ok {
		return resp.StatusCode, e
	}
	return resp.StatusCode, "tokens"
}

func TestDeviceApproveAndDeny(t *testing.T) {
	w, err := world.Parse("world.yaml", []byte(deviceWorld))
	if err != nil {
		t.Fatal(err)
	}
	e := cloudtest.StartWith(t, w, cloudtest.Options{StateDir: t.TempDir()})

	dc, uc := startDeviceSignIn(t, e)
	out, err := cloudCommand(t, e, "device", "approve", "--user", "alice@contoso.com", "--code", strings.ToLower(uc))
	if err != nil || !strings.Contains(out, "approved sign-in "+uc+" as alice@contoso.com") || !strings.Contains(out, "Azure Kubernetes Service AAD Client") {
		t.Fatalf("approve: err %v, out %q", err, out)
	}
	if status, got := pollOnce(t, e, dc); status != http.StatusOK || got != "tokens" {
		t.Fatalf("poll after approve: %d %s", status, got)
	}

	dc, uc = startDeviceSignIn(t, e)
	if out, err := cloudCommand(t, e, "device", "deny", "--user", "alice@contoso.com", "--code", uc); err != nil || !strings.Contains(out, "declined sign-in") {
		t.Fatalf("deny: err %v, out %q", err, out)
	}
	if status, got := pollOnce(t, e, dc); status != http.StatusBadRequest || got != "authorization_declined" {
		t.Fatalf("poll after deny: %d %s", status, got)
	}

	_, uc = startDeviceSignIn(t, e)
	for name, c := range map[string]struct {
		args  []string
		stdin string
		want  string // in the error
	}{
		"an unknown code says how to find the right one": {[]string{"--user", "alice@contoso.com", "--code", "ZZZZZZZZZ"}, "", "check the code the client printed"},
		"an unknown user is named with the fix":          {[]string{"--user", "eve@contoso.com", "--code", uc}, "", "add the user to the world file"},
		"a wrong password is refused when asked":         {[]string{"--user", "alice@contoso.com", "--code", uc, "--password-stdin"}, "nope\n", "wrong password"},
		"an empty password on stdin is refused":          {[]string{"--user", "alice@contoso.com", "--code", uc, "--password-stdin"}, "", "holds no password"},
		"the user is required":                           {[]string{"--code", uc}, "", "--user and --code are required"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := cloudCommandStdin(t, e, c.stdin, append([]string{"device", "approve"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
		})
	}
	if out, err := cloudCommandStdin(t, e, "alice-pw\n", "device", "approve", "--user", "alice@contoso.com", "--code", uc, "--password-stdin"); err != nil {
		t.Fatalf("approve with the right password: err %v, out %q", err, out)
	}
}

// cloudCommandStdin is cloudCommand with stdin as standard input.
func cloudCommandStdin(t *testing.T, e *cloudtest.Env, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand(context.Background())
	var out bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(args, "--cloud-url", e.URL, "--cloud-ca", e.Cloud.CAPath()))
	err := cmd.Execute()
	return out.String(), err
}

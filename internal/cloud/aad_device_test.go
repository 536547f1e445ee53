package cloud_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/cloud"
)

// tokenCall posts form to the cloud's AAD endpoint path and decodes the JSON answer.
func tokenCall(t *testing.T, c *cloud.Cloud, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := c.HTTPClient().PostForm(c.URL()+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode %s answer: %v", path, err)
	}
	return resp.StatusCode, body
}

// refusal is "<error> AADSTSnnnn" of an AAD error body.
func refusal(body map[string]any) string {
	code, _, _ := strings.Cut(fmt.Sprint(body["error_description"]), ":")
	return fmt.Sprint(body["error"]) + " " + code
}

func TestDeviceCodeFlowRefusals(t *testing.T) {
	clock := &settableClock{}
	c := startPeople(t, peopleWorld, clock)
	ci, _ := c.Application("ci")
	tokenPath, devicePath := "/"+peopleTenant+"/oauth2/v2.0/token", "/"+peopleTenant+"/oauth2/v2.0/devicecode"
	start := func(t *testing.T, client string) (deviceCode, userCode string) {
		t.Helper()
		status, body := tokenCall(t, c, devicePath, url.Values{"client_id": {client}, "scope": {aksScope + " openid profile offline_access"}})
		if status != http.StatusOK || body["interval"] != 5.0 || body["expires_in"] != 900.0 || body["verification_uri"] != "https://microsoft.com/devicelogin" {
			t.Fatalf("devicecode: %d %v", status, body)
		}
		return fmt.Sprint(body["device_code"]), fmt.Sprint(body["user_code"])
	}
	poll := func(t *testing.T, client, deviceCode string) (int, map[string]any) {
		t.Helper()
		return tokenCall(t, c, tokenPath, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {client},
			"device_code": {deviceCode}, "client_info": {"1"}})
	}

	t.Run("an unknown client cannot start a device sign-in (AADSTS700016)", func(t *testing.T) {
		status, body := tokenCall(t, c, devicePath, url.Values{"client_id": {"99999999-9999-4999-8999-999999999999"}, "scope": {aksScope}})
		if status != http.StatusBadRequest || refusal(body) != "unauthorized_client AADSTS700016" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("a device sign-in for an API or permission that does not exist is refused before anyone signs in", func(t *testing.T) {
		for scope, want := range map[string]string{
			"api://5e5e5e5e-0000-4000-8000-000000000000/.default": "invalid_resource AADSTS500011",
			cloud.AKSServerAppID + "/cluster.admin":               "invalid_scope AADSTS650053",
		} {
			status, body := tokenCall(t, c, devicePath, url.Values{"client_id": {cloud.AKSClientAppID}, "scope": {scope + " openid"}})
			if status != http.StatusBadRequest || refusal(body) != want {
				t.Errorf("scope %s: %d %v, want %s", scope, status, body, want)
			}
		}
	})
	t.Run("polling before approval is pending, polling too fast is slow_down, approval gives tokens once", func(t *testing.T) {
		dc, uc := start(t, cloud.AKSClientAppID)
		if status, body := poll(t, cloud.AKSClientAppID, dc); status != http.StatusBadRequest || refusal(body) != "authorization_pending AADSTS70016" {
			t.Fatalf("first poll: %d %v", status, body)
		}
		if status, body := poll(t, cloud.AKSClientAppID, dc); status != http.StatusBadRequest || body["error"] != "slow_down" {
			t.Fatalf("immediate second poll: %d %v", status, body)
		}
		if status, body, _ := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: uc, User: "alice@contoso.com", Password: "wrong"}); status != http.StatusBadRequest || !strings.Contains(body, "wrong password") {
			t.Fatalf("approval with a wrong password: %d %s", status, body)
		}
		if status, body, _ := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: "NOSUCHCOD", User: "alice@contoso.com"}); status != http.StatusNotFound || !strings.Contains(body, "AADSTS70018") {
			t.Fatalf("approval of an unknown code: %d %s", status, body)
		}
		if status, body, _ := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: uc, User: "bob@fabrikam.com"}); status != http.StatusBadRequest || !strings.Contains(body, "AADSTS50034") {
			t.Fatalf("approval by a user of another tenant: %d %s", status, body)
		}
		if status, body, _ := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: uc, User: "alice@contoso.com"}); status != http.StatusOK {
			t.Fatalf("approval: %d %s", status, body)
		}
		clock.Advance(2 * time.Second)
		status, body := poll(t, cloud.AKSClientAppID, dc)
		if status != http.StatusOK || body["refresh_token"] == nil || body["id_token"] == nil || body["scope"] != cloud.AKSServerAppID+"/user.read "+aksScope {
			t.Fatalf("poll after approval: %d %v", status, body)
		}
		id := claimsOf(t, fmt.Sprint(body["id_token"]))
		info, _ := base64.RawURLEncoding.DecodeString(fmt.Sprint(body["client_info"]))
		if id["aud"] != cloud.AKSClientAppID || id["preferred_username"] != "alice@contoso.com" || id["oid"] != aliceOID ||
			string(info) != `{"uid":"`+aliceOID+`","utid":"`+peopleTenant+`"}` {
			t.Fatalf("id token %v, client_info %s", id, info)
		}
		clock.Advance(2 * time.Second)
		if status, body := poll(t, cloud.AKSClientAppID, dc); status != http.StatusBadRequest || refusal(body) != "invalid_grant AADSTS70000" {
			t.Fatalf("second redemption: %d %v", status, body)
		}

		t.Run("its refresh token works for its client only", func(t *testing.T) {
			rt := fmt.Sprint(body["refresh_token"])
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"https://vault.azure.net/.default offline_access"}}
			form.Set("client_id", cloud.AKSClientAppID)
			if status, body := tokenCall(t, c, tokenPath, form); status != http.StatusOK || body["scope"] != "https://vault.azure.net/user_impersonation https://vault.azure.net/.default" {
				t.Fatalf("refresh by its client: %d %v", status, body)
			}
			form.Set("client_id", ci.AppID)
			form.Set("client_secret", "ci-secret")
			if status, body := tokenCall(t, c, tokenPath, form); status != http.StatusBadRequest || refusal(body) != "invalid_grant AADSTS70000" {
				t.Fatalf("refresh by another client: %d %v", status, body)
			}
			form.Set("client_id", cloud.AKSClientAppID)
			form.Del("client_secret")
			clock.Advance(91 * 24 * time.Hour)
			if status, body := tokenCall(t, c, tokenPath, form); status != http.StatusBadRequest || refusal(body) != "invalid_grant AADSTS700082" {
				t.Fatalf("refresh token unused for 91 days: %d %v", status, body)
			}
			form.Set("refresh_token", "1.forged.token")
			if status, body := tokenCall(t, c, tokenPath, form); status != http.StatusBadRequest || refusal(body) != "invalid_grant AADSTS9002313" {
				t.Fatalf("forged refresh token: %d %v", status, body)
			}
		})
	})
	t.Run("a declined sign-in is authorization_declined", func(t *testing.T) {
		dc, uc := start(t, cloud.AKSClientAppID)
		if status, body, _ := approveOverAdminAPI(c, "deny", cloud.DeviceDecision{Code: uc, User: "alice@contoso.com"}); status != http.StatusOK {
			t.Fatalf("deny: %d %s", status, body)
		}
		if status, body := poll(t, cloud.AKSClientAppID, dc); status != http.StatusBadRequest || refusal(body) != "authorization_declined AADSTS65004" {
			t.Fatalf("poll after deny: %d %v", status, body)
		}
		if status, body, _ := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: uc, User: "alice@contoso.com"}); status != http.StatusBadRequest || !strings.Contains(body, "already declined") {
			t.Fatalf("approval after deny: %d %s", status, body)
		}
	})
	t.Run("an expired code is expired_token and cannot be approved", func(t *testing.T) {
		dc, uc := start(t, cloud.AKSClientAppID)
		clock.Advance(15*time.Minute + time.Second)
		if status, body := poll(t, cloud.AKSClientAppID, dc); status != http.StatusBadRequest || refusal(body) != "expired_token AADSTS70020" {
			t.Fatalf("poll after expiry: %d %v", status, body)
		}
		if status, body, _ := approveOverAdminAPI(c, "approve", cloud.DeviceDecision{Code: uc, User: "alice@contoso.com"}); status != http.StatusBadRequest || !strings.Contains(body, "AADSTS70019") {
			t.Fatalf("approval after expiry: %d %s", status, body)
		}
	})
	t.Run("a confidential app cannot redeem a device code without its secret (AADSTS7000218)", func(t *testing.T) {
		dc, _ := start(t, ci.AppID)
		if status, body := poll(t, ci.AppID, dc); status != http.StatusUnauthorized || refusal(body) != "invalid_client AADSTS7000218" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("a scope of an API the tenant does not have is AADSTS500011", func(t *testing.T) {
		form := url.Values{"grant_type": {"password"}, "client_id": {cloud.AKSClientAppID}, "username": {"alice@contoso.com"}, "password": {"alice-pw"},
			"scope": {"api://5e5e5e5e-0000-4000-8000-000000000000/.default"}}
		if status, body := tokenCall(t, c, tokenPath, form); status != http.StatusBadRequest || refusal(body) != "invalid_resource AADSTS500011" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("home realm discovery knows the directory's domains only", func(t *testing.T) {
		for upn, want := range map[string]string{"alice@contoso.com": "Managed", "x@unknown.example": "Unknown"} {
			resp, err := c.HTTPClient().Get(c.URL() + "/common/UserRealm/" + url.PathEscape(upn) + "?api-version=1.0")
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if body["account_type"] != want {
				t.Errorf("realm of %s = %v, want %s", upn, body, want)
			}
		}
	})
}

package cloud_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/podid/podid/internal/cloud"
)

// adminRegistryCall sends body to the admin API as podid cloud acr does
// and returns the status and answer. A string body is sent as is, so a
// malformed one reaches the cloud.
func adminRegistryCall(t *testing.T, e *registryEnv, method, path string, body any) (int, string) {
	t.Helper()
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, e.env.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+e.env.Cloud.AdminToken())
	resp, err := e.env.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestAdminRegistryUpdatesAndRefusals runs its steps in order on one
// cloud: each sees the registries as the steps before left them.
func TestAdminRegistryUpdatesAndRefusals(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{Name: "podidacr"})
	if _, err := e.env.Cloud.PutRegistry(cloud.RegistrySpec{SubscriptionID: regSub, ResourceGroup: regRG, Name: "stdacr", SKU: "Standard"}); err != nil {
		t.Fatal(err)
	}
	type want struct {
		SKU, DefaultAction, PublicNetworkAccess string
		IPRules                                 []string
	}
	steps := []struct {
		name         string
		method, path string
		body         any
		status       int
		// inBody must appear in the answer (an ARM error code and message, or "changed").
		inBody string
		// registry and state are the registry to look at afterwards and what it must hold.
		registry string
		state    want
	}{
		{"Deny on a Standard registry is Azure's NetworkRuleSetNotSupported and changes nothing",
			"PATCH", "/admin/registries/stdacr", cloud.AdminRegistryUpdate{DefaultAction: "Deny"}, 400,
			`{"error":{"code":"NetworkRuleSetNotSupported","message":"Network rules and disabled public network access are only supported for registries of the Premium SKU; registry 'stdacr' is Standard."}}`,
			"stdacr", want{"Standard", "Allow", "Enabled", nil}},
		{"disabling public access on a Standard registry is refused the same way",
			"PATCH", "/admin/registries/stdacr", cloud.AdminRegistryUpdate{PublicNetworkAccess: "Disabled"}, 400,
			`"code":"NetworkRuleSetNotSupported"`, "stdacr", want{"Standard", "Allow", "Enabled", nil}},
		{"Premium and Deny in one update is accepted",
			"PATCH", "/admin/registries/stdacr", cloud.AdminRegistryUpdate{SKU: "Premium", DefaultAction: "Deny"}, 200,
			`"defaultAction":"Deny"`, "stdacr", want{"Premium", "Deny", "Enabled", nil}},
		{"an unknown SKU is InvalidSku",
			"PATCH", "/admin/registries/podidacr", cloud.AdminRegistryUpdate{SKU: "Gold"}, 400,
			`{"error":{"code":"InvalidSku","message":"The SKU 'Gold' is not valid. Supported SKUs are Basic, Standard, Premium."}}`,
			"podidacr", want{"Premium", "Allow", "Enabled", nil}},
		{"an unknown default action is InvalidRequestContent",
			"PATCH", "/admin/registries/podidacr", cloud.AdminRegistryUpdate{DefaultAction: "Block"}, 400,
			`"code":"InvalidRequestContent","message":"The value 'Block' of networkRuleSet.defaultAction is not one of Allow, Deny."`,
			"podidacr", want{"Premium", "Allow", "Enabled", nil}},
		{"an unknown registry is ResourceNotFound naming the registries there are",
			"PATCH", "/admin/registries/nosuchacr", cloud.AdminRegistryUpdate{DefaultAction: "Deny"}, 404,
			`{"error":{"code":"ResourceNotFound","message":"The Resource 'Microsoft.ContainerRegistry/registries/nosuchacr' was not found; the cloud has podidacr, stdacr."}}`,
			"podidacr", want{"Premium", "Allow", "Enabled", nil}},
		{"adding a rule to an unknown registry is ResourceNotFound too",
			"POST", "/admin/registries/nosuchacr/networkRules", cloud.AdminNetworkRule{IPAddress: "10.0.0.1"}, 404,
			`"code":"ResourceNotFound"`, "podidacr", want{"Premium", "Allow", "Enabled", nil}},
		{"a CIDR range with a prefix over 32 is InvalidIpRule",
			"POST", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "10.0.0.0/33"}, 400,
			`{"error":{"code":"InvalidIpRule","message":"The IP rule '10.0.0.0/33' is not valid. Specify an IPv4 address or an IPv4 CIDR range."}}`,
			"podidacr", want{"Premium", "Allow", "Enabled", nil}},
		{"an IPv6 address is InvalidIpRule",
			"POST", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "2001:db8::1"}, 400,
			`"code":"InvalidIpRule"`, "podidacr", want{"Premium", "Allow", "Enabled", nil}},
		{"removing a malformed rule is InvalidIpRule, not a quiet no-op",
			"DELETE", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "not-an-ip"}, 400,
			`"code":"InvalidIpRule"`, "podidacr", want{"Premium", "Allow", "Enabled", nil}},
		{"adding a range stores it",
			"POST", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "10.0.0.0/8"}, 200,
			`"changed":true`, "podidacr", want{"Premium", "Allow", "Enabled", []string{"10.0.0.0/8"}}},
		{"adding it again changes nothing",
			"POST", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "10.0.0.0/8"}, 200,
			`"changed":false`, "podidacr", want{"Premium", "Allow", "Enabled", []string{"10.0.0.0/8"}}},
		{"an address is the same rule as its /32",
			"POST", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "192.168.1.5"}, 200,
			`"changed":true`, "podidacr", want{"Premium", "Allow", "Enabled", []string{"10.0.0.0/8", "192.168.1.5"}}},
		{"so adding its /32 changes nothing",
			"POST", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "192.168.1.5/32"}, 200,
			`"changed":false`, "podidacr", want{"Premium", "Allow", "Enabled", []string{"10.0.0.0/8", "192.168.1.5"}}},
		{"Deny keeps the IP rules, as az acr update sends the whole rule set",
			"PATCH", "/admin/registries/podidacr", cloud.AdminRegistryUpdate{DefaultAction: "Deny"}, 200,
			`"ipRules":["10.0.0.0/8","192.168.1.5"]`, "podidacr", want{"Premium", "Deny", "Enabled", []string{"10.0.0.0/8", "192.168.1.5"}}},
		{"removing by the /32 form removes the address",
			"DELETE", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "192.168.1.5/32"}, 200,
			`"changed":true`, "podidacr", want{"Premium", "Deny", "Enabled", []string{"10.0.0.0/8"}}},
		{"removing a rule that is not there changes nothing",
			"DELETE", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "172.16.0.0/12"}, 200,
			`"changed":false`, "podidacr", want{"Premium", "Deny", "Enabled", []string{"10.0.0.0/8"}}},
		{"downgrading a Deny registry to Standard is NetworkRuleSetNotSupported",
			"PATCH", "/admin/registries/podidacr", cloud.AdminRegistryUpdate{SKU: "Standard"}, 400,
			`"code":"NetworkRuleSetNotSupported"`, "podidacr", want{"Premium", "Deny", "Enabled", []string{"10.0.0.0/8"}}},
		{"disabling public access on Premium is accepted",
			"PATCH", "/admin/registries/podidacr", cloud.AdminRegistryUpdate{PublicNetworkAccess: "Disabled"}, 200,
			`"publicNetworkAccess":"Disabled"`, "podidacr", want{"Premium", "Deny", "Disabled", []string{"10.0.0.0/8"}}},
		{"a body that is not JSON is refused",
			"PATCH", "/admin/registries/podidacr", "{", 400,
			`decode body`, "podidacr", want{"Premium", "Deny", "Disabled", []string{"10.0.0.0/8"}}},
	}
	for _, s := range steps {
		status, answer := adminRegistryCall(t, e, s.method, s.path, s.body)
		if status != s.status || !strings.Contains(answer, s.inBody) {
			t.Fatalf("%s: %s %s = %d %s, want %d with %s", s.name, s.method, s.path, status, answer, s.status, s.inBody)
		}
		r, _ := e.env.Cloud.Registry(s.registry)
		got := want{r.SKU, r.DefaultAction, r.PublicNetworkAccess, r.IPRules}
		if got.SKU != s.state.SKU || got.DefaultAction != s.state.DefaultAction || got.PublicNetworkAccess != s.state.PublicNetworkAccess || !slices.Equal(got.IPRules, s.state.IPRules) {
			t.Fatalf("%s: %s is %+v, want %+v", s.name, s.registry, got, s.state)
		}
	}
}

// TestAdminRegistryFirewallDecidesTheTokenExchange shows the admin
// changes reach the data plane: Deny without a rule for the client is
// 403 DENIED at /oauth2/exchange, a rule for it lets it through, and
// removing the rule shuts it out again.
func TestAdminRegistryFirewallDecidesTheTokenExchange(t *testing.T) {
	e := startRegistry(t, cloud.RegistrySpec{Name: "podidacr"})
	if _, err := e.env.Cloud.GrantRole(e.appObjectID(t, "puller"), "AcrPull", e.reg.ID); err != nil {
		t.Fatal(err)
	}
	aad := e.aadToken(t, "puller", "puller-secret", cloud.ACRAudience+"/.default")
	exchange := func(step string, wantStatus int, wantBody string) {
		t.Helper()
		if status, body := e.exchange(t, aad); status != wantStatus || !strings.Contains(body, wantBody) {
			t.Fatalf("%s: exchange = %d %s, want %d with %s", step, status, body, wantStatus, wantBody)
		}
	}
	exchange("before any rule", http.StatusOK, "refresh_token")

	if status, body := adminRegistryCall(t, e, "PATCH", "/admin/registries/podidacr", cloud.AdminRegistryUpdate{DefaultAction: "Deny"}); status != http.StatusOK {
		t.Fatalf("deny: %d %s", status, body)
	}
	exchange("after Deny", http.StatusForbidden, "client with IP '127.0.0.1' is not allowed access")

	if status, body := adminRegistryCall(t, e, "POST", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "127.0.0.0/8"}); status != http.StatusOK {
		t.Fatalf("add rule: %d %s", status, body)
	}
	exchange("with a rule for the client", http.StatusOK, "refresh_token")

	if status, body := adminRegistryCall(t, e, "DELETE", "/admin/registries/podidacr/networkRules", cloud.AdminNetworkRule{IPAddress: "127.0.0.0/8"}); status != http.StatusOK {
		t.Fatalf("remove rule: %d %s", status, body)
	}
	exchange("after removing the rule", http.StatusForbidden, `"code":"DENIED"`)
}

package cloud

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestTransitiveGroups(t *testing.T) {
	groups := []*Group{
		{ObjectID: "g-devs", Members: []string{"alice", "sp-ci"}},
		{ObjectID: "g-eng", Members: []string{"G-DEVS"}},
		{ObjectID: "g-all", Members: []string{"g-eng", "bob"}},
		{ObjectID: "g-loop-a", Members: []string{"g-loop-b", "carol"}},
		{ObjectID: "g-loop-b", Members: []string{"g-loop-a"}},
	}
	cases := map[string]struct {
		member string
		want   []string
	}{
		"a direct member gets its group and every group nesting it": {"alice", []string{"g-all", "g-devs", "g-eng"}},
		"a service principal is a member like a person":             {"sp-ci", []string{"g-all", "g-devs", "g-eng"}},
		"membership is matched case-insensitively":                  {"ALICE", []string{"g-all", "g-devs", "g-eng"}},
		"a member of the outer group only gets the outer group":     {"bob", []string{"g-all"}},
		"a cycle of groups ends":                                    {"carol", []string{"g-loop-a", "g-loop-b"}},
		"a stranger is in no group":                                 {"mallory", []string{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := transitiveGroups(groups, tc.member); !slices.Equal(got, tc.want) {
				t.Fatalf("groups of %s = %v, want %v", tc.member, got, tc.want)
			}
		})
	}
}

func TestGroupClaimsOverage(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("g%03d", i)
		}
		return out
	}
	if got := groupClaims("tid", "oid", nil); got != nil {
		t.Fatalf("no groups: claims %v, want none", got)
	}
	if got := groupClaims("tid", "oid", ids(200)); len(got["groups"].([]string)) != 200 || got["_claim_names"] != nil {
		t.Fatalf("200 groups: claims %v, want all 200 in groups", got)
	}
	got := groupClaims("tid", "oid", ids(201))
	if _, ok := got["groups"]; ok {
		t.Fatal("201 groups: the token still lists groups; Azure AD sends the overage indicator instead")
	}
	names, _ := got["_claim_names"].(map[string]string)
	src, _ := got["_claim_sources"].(map[string]any)[names["groups"]].(map[string]string)
	if src["endpoint"] != "https://graph.windows.net/tid/users/oid/getMemberObjects" {
		t.Fatalf("201 groups: overage claims %v do not point at the user's memberships", got)
	}
}

func TestParseDelegatedScope(t *testing.T) {
	aks := resourceApp{id: AKSServerAppID, scopes: []string{"user.read"}, groups: true}
	cases := map[string]struct {
		scope    string
		resource string
		openID   bool
		offline  bool
		wantCode int // 0: accepted
		scp      string
		echo     string
	}{
		"kubelogin's scope with MSAL's additions": {scope: AKSServerAppID + "/.default openid offline_access profile", resource: AKSServerAppID,
			openID: true, offline: true, scp: "user.read", echo: AKSServerAppID + "/user.read " + AKSServerAppID + "/.default"},
		"a named permission is granted and echoed without .default": {scope: AKSServerAppID + "/user.read", resource: AKSServerAppID,
			scp: "user.read", echo: AKSServerAppID + "/user.read"},
		"a permission the API does not expose is AADSTS650053": {scope: AKSServerAppID + "/admin.all", resource: AKSServerAppID, wantCode: 650053},
		"two resources in one request are AADSTS28000":         {scope: AKSServerAppID + "/.default https://management.azure.com/.default", wantCode: 28000},
		"no scope at all is AADSTS900144":                      {scope: "  ", wantCode: 900144},
		"a bare permission is Microsoft Graph's":               {scope: "User.Read openid", resource: graphAppID, openID: true},
		"only OpenID scopes name no resource":                  {scope: "openid profile offline_access", openID: true, offline: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := parseDelegatedScope(tc.scope)
			if err == nil && d.resource == AKSServerAppID {
				var scp, echo string
				scp, echo, err = d.grant(aks, "client")
				if err == nil && (scp != tc.scp || echo != tc.echo) {
					t.Fatalf("grant = %q, %q; want %q, %q", scp, echo, tc.scp, tc.echo)
				}
			}
			switch {
			case tc.wantCode != 0 && (err == nil || err.code != tc.wantCode):
				t.Fatalf("error %v, want AADSTS%d", err, tc.wantCode)
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantCode == 0 && (d.resource != tc.resource || d.openID != tc.openID || d.offline != tc.offline):
				t.Fatalf("parsed %+v, want resource %q openID %v offline %v", d, tc.resource, tc.openID, tc.offline)
			}
		})
	}
}

func TestDecideDevicePoll(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	pending := deviceGrant{issued: t0, expires: t0.Add(deviceCodeLifetime)}
	with := func(f func(*deviceGrant)) deviceGrant { g := pending; f(&g); return g }
	cases := map[string]struct {
		grant deviceGrant
		now   time.Time
		want  string // OAuth error, "" for tokens
	}{
		"the first poll of an undecided code is pending":      {pending, t0.Add(time.Second), "authorization_pending"},
		"a poll after the minimum gap is pending":             {with(func(g *deviceGrant) { g.lastPoll = t0 }), t0.Add(devicePollMinGap), "authorization_pending"},
		"a poll right after another is slow_down":             {with(func(g *deviceGrant) { g.lastPoll = t0 }), t0.Add(devicePollMinGap / 2), "slow_down"},
		"an approved code gets tokens":                        {with(func(g *deviceGrant) { g.state = deviceApproved; g.lastPoll = t0 }), t0.Add(time.Millisecond), ""},
		"a declined code is authorization_declined":           {with(func(g *deviceGrant) { g.state = deviceDeclined }), t0.Add(time.Minute), "authorization_declined"},
		"an expired code is expired_token even when approved": {with(func(g *deviceGrant) { g.state = deviceApproved }), t0.Add(deviceCodeLifetime), "expired_token"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := decideDevicePoll(tc.grant, tc.now)
			got := ""
			if err != nil {
				got = err.kind
			}
			if got != tc.want || (d == pollIssue) != (tc.want == "") {
				t.Fatalf("decision %v, error %q; want %q", d, got, tc.want)
			}
		})
	}
}

func TestRefreshTokenSeal(t *testing.T) {
	a := refreshSealer{key: []byte("key-a")}
	b := refreshSealer{key: []byte("key-b")}
	g := refreshGrant{TenantID: "t", ObjectID: "o", ClientID: "c", Issued: 42}
	tok := a.seal(g)
	if got, ok := a.open(tok); !ok || got != g {
		t.Fatalf("open(seal(g)) = %+v, %v", got, ok)
	}
	for name, bad := range map[string]string{
		"a token sealed with another key": b.seal(g),
		"a tampered payload":              tok[:3] + "x" + tok[4:],
		"not a refresh token at all":      "eyJhbGciOiJSUzI1NiJ9.e30.sig",
		"an empty token":                  "",
	} {
		if _, ok := a.open(bad); ok {
			t.Errorf("%s was accepted", name)
		}
	}
}

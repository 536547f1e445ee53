package acr

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseScope(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    Access
		wantErr bool
	}{
		"a pull scope":                      {in: "repository:app/web:pull", want: Access{Type: "repository", Name: "app/web", Actions: []string{"pull"}}},
		"pull and push, duplicates dropped": {in: "repository:a:pull,push,pull", want: Access{Type: "repository", Name: "a", Actions: []string{"pull", "push"}}},
		"the catalog":                       {in: "registry:catalog:*", want: Access{Type: "registry", Name: "catalog", Actions: []string{"*"}}},
		"a missing action list is refused":  {in: "repository:app", wantErr: true},
		"an empty name is refused":          {in: "repository::pull", wantErr: true},
		"an empty action list is refused":   {in: "repository:app:", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseScope(tc.in)
			if (err != nil) != tc.wantErr || (!tc.wantErr && !reflect.DeepEqual(got, tc.want)) {
				t.Fatalf("ParseScope(%q) = %+v, %v", tc.in, got, err)
			}
			if !tc.wantErr && got.String() != strings.Join([]string{tc.want.Type, tc.want.Name, strings.Join(tc.want.Actions, ",")}, ":") {
				t.Fatalf("String() = %q", got.String())
			}
		})
	}
	many, err := ParseScopes([]string{"repository:a:pull repository:b:push", "registry:catalog:*"})
	if err != nil || len(many) != 3 {
		t.Fatalf("ParseScopes = %+v, %v", many, err)
	}
}

func TestGrant(t *testing.T) {
	pullPush := []Access{{Type: TypeRepository, Name: "nginx", Actions: []string{ActionPull, ActionPush}}, {Type: TypeRepository, Name: "redis", Actions: []string{ActionPull}}}
	// roles maps an action (and repository, for ABAC) to allowed.
	allow := func(ok map[string]bool) Checker {
		return func(p Permission) bool { return ok[p.Action] || ok[p.Action+"@"+p.Attributes[RepositoryNameAttribute]] }
	}
	cases := map[string]struct {
		mode      Mode
		requested []Access
		can       Checker
		want      []Access
	}{
		"AcrPull in rbac mode gets pull of every repository, not push": {
			mode: ModeRBAC, requested: pullPush, can: allow(map[string]bool{LegacyPullAction: true}),
			want: []Access{{Type: TypeRepository, Name: "nginx", Actions: []string{ActionPull}}, {Type: TypeRepository, Name: "redis", Actions: []string{ActionPull}}}},
		"AcrPush in rbac mode gets both": {
			mode: ModeRBAC, requested: pullPush[:1], can: allow(map[string]bool{LegacyPullAction: true, LegacyPushAction: true}),
			want: pullPush[:1]},
		"a control-plane pull role counts for nothing in abac mode": {
			mode: ModeABAC, requested: pullPush, can: allow(map[string]bool{LegacyPullAction: true, LegacyPushAction: true})},
		"a repository condition in abac mode grants only its repository": {
			mode: ModeABAC, requested: pullPush, can: allow(map[string]bool{ContentReadAction + "@nginx": true}),
			want: []Access{{Type: TypeRepository, Name: "nginx", Actions: []string{ActionPull}}}},
		"the catalog needs pull in rbac mode": {
			mode: ModeRBAC, requested: []Access{{Type: TypeRegistry, Name: CatalogName, Actions: []string{ActionAll}}}, can: allow(map[string]bool{LegacyPullAction: true}),
			want: []Access{{Type: TypeRegistry, Name: CatalogName, Actions: []string{ActionAll}}}},
		"the catalog needs the catalog data action in abac mode": {
			mode: ModeABAC, requested: []Access{{Type: TypeRegistry, Name: CatalogName, Actions: []string{ActionAll}}}, can: allow(map[string]bool{ContentReadAction + "@": true})},
		"anonymous pull when enabled gives pull only": {
			mode: ModeRBAC, requested: pullPush[:1], can: AnonymousChecker(true),
			want: []Access{{Type: TypeRepository, Name: "nginx", Actions: []string{ActionPull}}}},
		"anonymous pull when enabled never lists the catalog": {
			mode: ModeRBAC, requested: []Access{{Type: TypeRegistry, Name: CatalogName, Actions: []string{ActionAll}}}, can: AnonymousChecker(true)},
		"anonymous when disabled gets nothing": {
			mode: ModeABAC, requested: pullPush, can: AnonymousChecker(false)},
		"an unknown action or type is never granted": {
			mode: ModeRBAC, requested: []Access{{Type: TypeRepository, Name: "a", Actions: []string{"frob"}}, {Type: "artifact-repository", Name: "a", Actions: []string{ActionPull}}},
			can: func(Permission) bool { return true }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Grant(tc.mode, tc.requested, tc.can); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Grant = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFirewallAllows(t *testing.T) {
	cases := map[string]struct {
		n    Network
		ip   string
		want bool
	}{
		"no rules allow everyone":                    {Network{PublicNetworkAccess: AccessEnabled, DefaultAction: ActionAllow}, "203.0.113.9", true},
		"deny without rules refuses":                 {Network{DefaultAction: ActionDeny}, "127.0.0.1", false},
		"an address rule lets its address through":   {Network{DefaultAction: ActionDeny, IPRules: []string{"127.0.0.1"}}, "127.0.0.1", true},
		"a range rule lets its range through":        {Network{DefaultAction: ActionDeny, IPRules: []string{"10.1.0.0/16"}}, "10.1.200.3", true},
		"a range rule keeps others out":              {Network{DefaultAction: ActionDeny, IPRules: []string{"10.1.0.0/16"}}, "10.2.0.1", false},
		"an IPv4-mapped IPv6 client matches":         {Network{DefaultAction: ActionDeny, IPRules: []string{"127.0.0.1"}}, "::ffff:127.0.0.1", true},
		"disabled public access beats an allow rule": {Network{PublicNetworkAccess: AccessDisabled, DefaultAction: ActionDeny, IPRules: []string{"127.0.0.1"}}, "127.0.0.1", false},
		"disabled public access beats Allow":         {Network{PublicNetworkAccess: AccessDisabled, DefaultAction: ActionAllow}, "127.0.0.1", false},
		"an unparsable client is refused under Deny": {Network{DefaultAction: ActionDeny, IPRules: []string{"0.0.0.0/0"}}, "pipe", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := FirewallAllows(tc.n, tc.ip); got != tc.want {
				t.Fatalf("FirewallAllows = %v", got)
			}
		})
	}
}

func TestParseRoute(t *testing.T) {
	cases := map[string]struct {
		method, path string
		want         Route
		ok           bool
	}{
		"the base":                           {"GET", "/v2/", Route{Kind: RouteBase}, true},
		"the catalog":                        {"GET", "/v2/_catalog", Route{Kind: RouteCatalog, Need: &Access{Type: "registry", Name: "catalog", Actions: []string{"*"}}}, true},
		"a nested manifest by tag":           {"HEAD", "/v2/team/app/web/manifests/v1", Route{Kind: RouteRepository, Repository: "team/app/web", Resource: "manifests", Reference: "v1", Need: &Access{Type: "repository", Name: "team/app/web", Actions: []string{"pull"}}}, true},
		"a blob upload needs pull,push":      {"POST", "/v2/app/blobs/uploads/", Route{Kind: RouteRepository, Repository: "app", Resource: "blobs", Reference: "uploads/", Need: &Access{Type: "repository", Name: "app", Actions: []string{"pull", "push"}}}, true},
		"a repository named like a resource": {"GET", "/v2/tags/tags/list", Route{Kind: RouteRepository, Repository: "tags", Resource: "tags", Reference: "list", Need: &Access{Type: "repository", Name: "tags", Actions: []string{"pull"}}}, true},
		"a delete":                           {"DELETE", "/v2/app/manifests/sha256:ab", Route{Kind: RouteRepository, Repository: "app", Resource: "manifests", Reference: "sha256:ab", Need: &Access{Type: "repository", Name: "app", Actions: []string{"delete"}}}, true},
		"not the distribution API":           {"GET", "/v2/app", Route{}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := ParseRoute(tc.method, tc.path)
			if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseRoute = %+v (need %+v), %v", got, got.Need, ok)
			}
		})
	}
	if r, _ := ParseRoute("PUT", "/v2/app/manifests/v1"); r.RequiredAction() != ActionPush {
		t.Fatalf("a manifest PUT requires %q", r.RequiredAction())
	}
}

func TestBodiesAreACRs(t *testing.T) {
	cases := map[string]struct {
		got, want string
	}{
		"401 at /v2/": {string(Body(Unauthorized(nil))),
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":null}]}`},
		"401 on a repository": {string(Body(Unauthorized(&Access{Type: "repository", Name: "app", Actions: []string{"pull"}}))),
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":[{"Type":"repository","Name":"app","Action":"pull"}]}]}`},
		"404 repository": {string(Body(NameUnknown("app"))), `{"errors":[{"code":"NAME_UNKNOWN","message":"repository \"app\" is not found"}]}`},
		"404 tag": {string(Body(ManifestUnknown("v2", false))),
			`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest tagged by \"v2\" is not found","detail":{"Tag":"v2"}}]}`},
		"403 firewall": {string(Body(FirewallDenied("1.2.3.4", ""))),
			`{"errors":[{"code":"DENIED","message":"client with IP '1.2.3.4' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}`},
		"challenge": {Challenge("a.azurecr.io", &Access{Type: "repository", Name: "x", Actions: []string{"pull"}}),
			`Bearer realm="https://a.azurecr.io/oauth2/token",service="a.azurecr.io",scope="repository:x:pull"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got  %s\nwant %s", tc.got, tc.want)
			}
		})
	}
}

func TestClaims(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := RefreshClaims("a.azurecr.io", "oid", "tid", "jti", now)
	if r.Issuer != Issuer || r.GrantType != GrantRefresh || r.Audience != "a.azurecr.io" || !r.ExpiresAt.Equal(now.Add(3*time.Hour)) || r.Access != nil {
		t.Fatalf("refresh claims = %+v", r)
	}
	a := AccessClaims("a.azurecr.io", "oid", "tid", "jti", nil, now)
	if a.GrantType != GrantAccess || a.Access == nil || !a.ExpiresAt.Equal(now.Add(75*time.Minute)) {
		t.Fatalf("access claims = %+v", a)
	}
	if !Covers([]Access{{Type: "repository", Name: "x", Actions: []string{"pull"}}}, "repository", "x", "pull") ||
		Covers([]Access{{Type: "repository", Name: "x", Actions: []string{"pull"}}}, "repository", "x", "push") {
		t.Fatal("Covers")
	}
}

package authz

import "testing"

const (
	repoAttr    = "Microsoft.ContainerRegistry/registries/repositories:name"
	contentRead = "Microsoft.ContainerRegistry/registries/repositories/content/read"
	acrDocsCond = `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'nginx'))`
)

func TestEvaluateCondition(t *testing.T) {
	req := func(action, repo string) Request {
		r := Request{Action: action, DataAction: true}
		if repo != "" {
			r.Attributes = map[string]string{repoAttr: repo}
		}
		return r
	}
	cases := map[string]struct {
		cond    string
		req     Request
		want    bool
		wantErr bool
	}{
		"the documented repository condition allows its repository":           {cond: acrDocsCond, req: req(contentRead, "NGINX"), want: true},
		"the documented repository condition refuses another repository":      {cond: acrDocsCond, req: req(contentRead, "redis")},
		"the documented condition does not restrict actions it does not name": {cond: acrDocsCond, req: req("Microsoft.ContainerRegistry/registries/repositories/content/write", "redis"), want: true},
		"a bare equality":                                     {cond: `@Request[` + repoAttr + `] StringEquals 'app/web'`, req: req(contentRead, "app/web"), want: true},
		"StringEquals is case-sensitive":                      {cond: `@Request[` + repoAttr + `] StringEquals 'app/web'`, req: req(contentRead, "App/Web")},
		"a prefix condition allows the namespace":             {cond: `@Request[` + repoAttr + `] StringStartsWithIgnoreCase 'backend/'`, req: req(contentRead, "backend/api"), want: true},
		"a prefix condition refuses outside the namespace":    {cond: `@Request[` + repoAttr + `] StringStartsWithIgnoreCase 'backend/'`, req: req(contentRead, "frontend/api")},
		"a missing attribute makes a comparison false":        {cond: `@Request[` + repoAttr + `] StringEquals 'x'`, req: req(contentRead, "")},
		"a missing attribute makes a negated comparison true": {cond: `@Request[` + repoAttr + `] StringNotEquals 'x'`, req: req(contentRead, ""), want: true},
		"OR and AND with the symbolic spellings":              {cond: `@Request[` + repoAttr + `] StringEquals 'a' || @Request[` + repoAttr + `] StringLike 'b*' && NOT ActionMatches{'*/write'}`, req: req(contentRead, "bee"), want: true},
		"an unknown operator is an error":                     {cond: `@Request[` + repoAttr + `] NumericEquals '1'`, req: req(contentRead, "a"), wantErr: true},
		"resource attributes are not supported":               {cond: `@Resource[x] StringEquals 'a'`, req: req(contentRead, "a"), wantErr: true},
		"an unbalanced parenthesis is an error":               {cond: `(@Request[` + repoAttr + `] StringEquals 'a'`, req: req(contentRead, "a"), wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := EvaluateCondition(tc.cond, tc.req)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("EvaluateCondition = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestAuthorizeHonoursConditions(t *testing.T) {
	registry := rg + "/providers/Microsoft.ContainerRegistry/registries/acr1"
	a := Assignment{ID: "a1", Scope: registry, PrincipalID: alice, RoleDefinitionID: RepositoryReaderID, Condition: acrDocsCond, ConditionVersion: "2.0"}
	defs := Builtins()
	pull := func(repo string) Request {
		return Request{PrincipalID: alice, Action: contentRead, DataAction: true, Scope: registry, Attributes: map[string]string{repoAttr: repo}}
	}
	if d := Authorize(pull("nginx"), []Assignment{a}, defs); !d.Allowed {
		t.Fatalf("pull nginx = %+v, want allowed", d)
	}
	if d := Authorize(pull("redis"), []Assignment{a}, defs); d.Allowed || d.Reason != ReasonConditionNotMet {
		t.Fatalf("pull redis = %+v, want %s", d, ReasonConditionNotMet)
	}
	broken := a
	broken.Condition = "@Request[x] Frobnicates 'y'"
	if d := Authorize(pull("nginx"), []Assignment{broken}, defs); d.Allowed {
		t.Fatalf("a condition that cannot be evaluated granted access: %+v", d)
	}
	plain := a
	plain.Condition = ""
	if d := Authorize(pull("redis"), []Assignment{plain}, defs); !d.Allowed {
		t.Fatalf("an unconditional Repository Reader assignment = %+v, want allowed", d)
	}
}

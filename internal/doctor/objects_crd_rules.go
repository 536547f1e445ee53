package doctor

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/config/crd"
)

// formatRule is one `self.matches('<regexp>')` rule podid's CRD puts on a
// string field of an AzureIdentity's spec, with the message the API server
// would give.
type formatRule struct {
	field string // canonical JSON name under spec
	re    *regexp.Regexp
	// after is the message's text after the quoted value, from the rule's
	// messageExpression; empty when it has another form.
	after string
	rule  string
}

// formatRules are the AzureIdentity spec's format rules.
type formatRules []formatRule

// identityFormatRules reads the format rules from podid's own CRD, once,
// so that the doctor applies exactly what the API server applies to new
// objects: the rules live in one place, api/v1's markers.
var identityFormatRules = sync.OnceValues(func() (formatRules, error) {
	crds, err := crd.Load()
	if err != nil {
		return nil, err
	}
	for _, c := range crds {
		if c.Spec.Names.Kind == podidv1.KindAzureIdentity {
			return formatRulesOf(c)
		}
	}
	return nil, fmt.Errorf("podid's CRDs have no %s", podidv1.KindAzureIdentity)
})

// ruleMatches recognises the one CEL form the rules take.
var ruleMatches = regexp.MustCompile(`^self\.matches\('(.*)'\)$`)

// formatRulesOf collects the matches-rules of the spec fields of the
// storage version.
func formatRulesOf(c *apiextensionsv1.CustomResourceDefinition) (formatRules, error) {
	for _, v := range c.Spec.Versions {
		if !v.Storage || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		var out formatRules
		spec := v.Schema.OpenAPIV3Schema.Properties["spec"]
		for _, lf := range podidv1.LegacySpellings(podidv1.KindAzureIdentity) {
			prop, ok := spec.Properties[lf.Canonical]
			if !ok {
				continue
			}
			for _, r := range prop.XValidations {
				m := ruleMatches.FindStringSubmatch(r.Rule)
				if m == nil {
					continue
				}
				re, err := regexp.Compile(celUnquote(m[1]))
				if err != nil {
					return nil, fmt.Errorf("compile rule of spec.%s: %w", lf.Canonical, err)
				}
				out = append(out, formatRule{field: lf.Canonical, re: re, after: messageAfterSelf(r.MessageExpression), rule: r.Rule})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("CRD %s has no storage version with a schema", c.Name)
}

// messageAfterSelf reads a messageExpression of the form
// '"' + self + '<text>' and returns <text>; "" for any other form.
func messageAfterSelf(expr string) string {
	const head = `'"' + self + '`
	if !strings.HasPrefix(expr, head) || !strings.HasSuffix(expr, "'") || len(expr) <= len(head) {
		return ""
	}
	return celUnquote(expr[len(head) : len(expr)-1])
}

// celUnquote undoes the two escapes of a CEL single-quoted string that the
// rules use: \\ and \'.
func celUnquote(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\'`, `'`).Replace(s)
}

// problems returns the format rules id's spec breaks. Empty values are
// Problems' business, not the format's.
func (rs formatRules) problems(id *podidv1.AzureIdentity) []podidv1.FieldProblem {
	if len(rs) == 0 {
		return nil
	}
	raw, err := json.Marshal(id.Spec)
	if err != nil {
		return nil
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil
	}
	var out []podidv1.FieldProblem
	for _, r := range rs {
		v, _ := spec[r.field].(string)
		if v == "" || r.re.MatchString(v) {
			continue
		}
		msg := fmt.Sprintf("%q breaks podid's rule %s", v, r.rule)
		if r.after != "" {
			msg = `"` + v + r.after
		}
		out = append(out, podidv1.FieldProblem{Field: "spec." + r.field, Message: msg})
	}
	return out
}

package doctor

import (
	"fmt"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// crdDir is where podid's CRDs are, in its repository and release.
const crdDir = "config/crd"

// checkLegacyCRDs finds aadpodidentity.k8s.io CRDs left by an older
// aad-pod-identity: their structural schemas know only the camelCase
// fields, so the API server silently drops the PascalCase spellings that
// manifests written before aad-pod-identity v1.6.0 use (spec.ClientID,
// spec.ResourceID, spec.Selector, ...). podid's CRDs declare each spelling
// in api/v1.LegacySpellings and preserve the rest (internal/crdlegacy).
func checkLegacyCRDs(f *Facts) []Finding {
	var out []Finding
	for i := range f.CRDs {
		c := &f.CRDs[i]
		pruned := prunedSpellings(c)
		if len(pruned) == 0 {
			continue
		}
		out = append(out, Finding{
			Status: Fail,
			Object: Object("CustomResourceDefinition", "", c.Name),
			Message: fmt.Sprintf("The CRD is an older aad-pod-identity's: the API server drops %s from stored %s objects, so manifests in that older spelling lose those fields.",
				strings.Join(pruned, ", "), c.Spec.Names.Kind),
			Evidence: []string{fmt.Sprintf("storage version %s: spec declares neither these fields nor x-kubernetes-preserve-unknown-fields", storageVersion(c))},
			Fix:      "kubectl apply -f " + crdDir,
		})
	}
	if len(out) > 0 {
		return out
	}
	return objPass(len(f.CRDs), objPlural(len(f.CRDs), "aadpodidentity.k8s.io CRD keeps the older PascalCase fields", "aadpodidentity.k8s.io CRDs keep the older PascalCase fields"))
}

// prunedSpellings lists the older spellings ("spec.ClientID") the CRD's
// storage schema would prune.
func prunedSpellings(c *apiextensionsv1.CustomResourceDefinition) []string {
	fields := podidv1.LegacySpellings(c.Spec.Names.Kind)
	if len(fields) == 0 {
		return nil
	}
	var root *apiextensionsv1.JSONSchemaProps
	for _, v := range c.Spec.Versions {
		if v.Storage && v.Schema != nil {
			root = v.Schema.OpenAPIV3Schema
		}
	}
	if root == nil || keeps(root) {
		return nil // no schema, or one that preserves everything: nothing is pruned
	}
	// A schema without spec prunes all of it.
	spec := root.Properties["spec"]
	return prunedIn(&spec, fields, "spec")
}

// prunedIn walks the legacy fields of one object schema.
func prunedIn(obj *apiextensionsv1.JSONSchemaProps, fields []podidv1.LegacyField, path string) []string {
	if keeps(obj) {
		return nil
	}
	var out []string
	for _, lf := range fields {
		for _, d := range lf.Declared {
			if _, ok := obj.Properties[d]; !ok {
				out = append(out, path+"."+d)
			}
		}
		if canon, ok := obj.Properties[lf.Canonical]; ok && len(lf.Nested) > 0 {
			out = append(out, prunedIn(&canon, lf.Nested, path+"."+lf.Canonical)...)
		}
	}
	return out
}

// keeps reports whether a schema preserves unknown fields.
func keeps(s *apiextensionsv1.JSONSchemaProps) bool {
	return s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields
}

func storageVersion(c *apiextensionsv1.CustomResourceDefinition) string {
	for _, v := range c.Spec.Versions {
		if v.Storage {
			return v.Name
		}
	}
	return "?"
}

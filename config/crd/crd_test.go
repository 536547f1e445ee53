package crd

import (
	"testing"

	podidv1 "github.com/podid/podid/api/v1"
)

// TestEveryLegacySpellingIsDeclared fails when api/v1's legacy table and the
// committed CRDs drift apart: run `make generate`.
func TestEveryLegacySpellingIsDeclared(t *testing.T) {
	crds, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]bool{}
	for _, c := range crds {
		byKind[c.Spec.Names.Kind] = true
		spec := c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
		for _, f := range podidv1.LegacySpellings(c.Spec.Names.Kind) {
			for _, d := range append([]string{f.Canonical}, f.Declared...) {
				prop, ok := spec.Properties[d]
				if !ok {
					t.Errorf("%s: spec.%s is not declared; run make generate", c.Spec.Names.Kind, d)
					continue
				}
				for _, n := range f.Nested {
					for _, nd := range append([]string{n.Canonical}, n.Declared...) {
						if _, ok := prop.Properties[nd]; !ok {
							t.Errorf("%s: spec.%s.%s is not declared; run make generate", c.Spec.Names.Kind, d, nd)
						}
					}
				}
			}
			if len(f.Declared) > 0 && (spec.XPreserveUnknownFields == nil || !*spec.XPreserveUnknownFields) {
				t.Errorf("%s: spec does not preserve unknown fields, so other casings would be pruned", c.Spec.Names.Kind)
			}
		}
		if c.Annotations["api-approved.kubernetes.io"] == "" {
			t.Errorf("%s: no api-approved.kubernetes.io annotation; the API server refuses CRDs under k8s.io without it", c.Name)
		}
	}
	for _, k := range []string{podidv1.KindAzureIdentity, podidv1.KindAzureIdentityBinding, podidv1.KindAzureAssignedIdentity, podidv1.KindAzurePodIdentityException} {
		if !byKind[k] {
			t.Errorf("no CRD for %s", k)
		}
	}
}

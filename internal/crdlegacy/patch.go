package crdlegacy

import (
	"fmt"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// requiredSpecFields are fields a kind must have in one spelling or another.
// They cannot be listed as "required" in the schema, which would refuse the
// older spelling.
var requiredSpecFields = map[string][]requirement{
	podidv1.KindAzureIdentityBinding: {
		{field: "azureIdentity", why: "set it to the name of an AzureIdentity in this namespace"},
		{field: "selector", why: "set it to the value of the aadpodidbinding label of the pods this binding is for"},
	},
}

type requirement struct{ field, why string }

const (
	approvalAnnotation = "api-approved.kubernetes.io"
	approvalValue      = "unapproved, kept for compatibility with aad-pod-identity manifests"
)

// Patch adds the legacy spellings of crd's kind to every version's schema. It
// is idempotent and leaves kinds without legacy spellings unchanged except
// that spec becomes required for kinds listed in requiredSpecFields.
func Patch(crd *apiextv1.CustomResourceDefinition) error {
	// aadpodidentity.k8s.io lies under k8s.io, which the API server reserves
	// for approved APIs; aad-pod-identity's CRDs declared it unapproved too.
	if crd.Annotations == nil {
		crd.Annotations = map[string]string{}
	}
	crd.Annotations[approvalAnnotation] = approvalValue
	kind := crd.Spec.Names.Kind
	fields := podidv1.LegacySpellings(kind)
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return fmt.Errorf("patch %s version %s: no OpenAPI schema", kind, v.Name)
		}
		root := v.Schema.OpenAPIV3Schema
		spec, ok := root.Properties["spec"]
		if !ok {
			return fmt.Errorf("patch %s version %s: schema has no spec", kind, v.Name)
		}
		if len(fields) > 0 {
			if err := addAliases(&spec, fields, "spec"); err != nil {
				return fmt.Errorf("patch %s version %s: %w", kind, v.Name, err)
			}
			spec.XValidations = mergeRules(spec.XValidations, rules(kind, fields))
		}
		root.Properties["spec"] = spec
		if _, ok := requiredSpecFields[kind]; ok && !contains(root.Required, "spec") {
			root.Required = append(root.Required, "spec")
		}
	}
	return nil
}

func addAliases(obj *apiextv1.JSONSchemaProps, fields []podidv1.LegacyField, path string) error {
	preserve := true
	obj.XPreserveUnknownFields = &preserve
	for _, f := range fields {
		canon, ok := obj.Properties[f.Canonical]
		if !ok {
			return fmt.Errorf("%s.%s: canonical field missing from the generated schema", path, f.Canonical)
		}
		if len(f.Nested) > 0 {
			if err := addAliases(&canon, f.Nested, path+"."+f.Canonical); err != nil {
				return err
			}
			obj.Properties[f.Canonical] = canon
		}
		for _, d := range f.Declared {
			alias := *canon.DeepCopy()
			alias.Description = fmt.Sprintf("Older spelling of %s, from manifests written for aad-pod-identity before v1.6.0. Accepted and validated like %s; the controller moves its value to %s.", f.Canonical, f.Canonical, f.Canonical)
			obj.Properties[d] = alias
		}
	}
	return nil
}

func rules(kind string, fields []podidv1.LegacyField) []apiextv1.ValidationRule {
	var out []apiextv1.ValidationRule
	for _, f := range fields {
		if len(f.Nested) > 0 {
			// CEL cannot compare two object types; the controller reports
			// such conflicts in events instead.
			continue
		}
		for _, d := range f.Declared {
			out = append(out, apiextv1.ValidationRule{
				Rule:      fmt.Sprintf("!has(self.%s) || !has(self.%s) || self.%s == self.%s", f.Canonical, d, f.Canonical, d),
				Message:   fmt.Sprintf("spec.%s and its older spelling spec.%s hold different values; keep only one of them", f.Canonical, d),
				FieldPath: "." + d,
			})
		}
	}
	for _, r := range requiredSpecFields[kind] {
		has := fmt.Sprintf("has(self.%s)", r.field)
		spellings := []string{r.field}
		for _, f := range fields {
			if f.Canonical == r.field {
				for _, d := range f.Declared {
					has += fmt.Sprintf(" || has(self.%s)", d)
					spellings = append(spellings, d)
				}
			}
		}
		reason := apiextv1.FieldValueRequired
		out = append(out, apiextv1.ValidationRule{
			Rule:      has,
			Message:   fmt.Sprintf("spec.%s is required: %s (older manifests spell it %v)", r.field, r.why, spellings[1:]),
			FieldPath: "." + r.field,
			Reason:    &reason,
		})
	}
	return out
}

// mergeRules appends rules not already present, so Patch is idempotent.
func mergeRules(have, add []apiextv1.ValidationRule) []apiextv1.ValidationRule {
	for _, r := range add {
		dup := false
		for _, h := range have {
			if h.Rule == r.Rule {
				dup = true
				break
			}
		}
		if !dup {
			have = append(have, r)
		}
	}
	return have
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

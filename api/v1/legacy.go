package v1

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Manifests written for aad-pod-identity before v1.6.0 spell spec fields in
// PascalCase, and its Go decoder matched keys case-insensitively, so every
// spelling worked. Structural CRDs match exactly and prune the rest, which is
// how "Invalid resource id: \"\"" reached users of v1.8. podid keeps these
// manifests working in two steps:
//
//  1. The CRDs declare the canonical field and each spelling listed in
//     LegacySpellings with the same schema, so the API server validates a
//     legacy value at apply time, and preserve any other spelling.
//  2. NormalizeObject folds every spelling into the canonical field,
//     case-insensitively as the old decoder did; the controller writes the
//     result back and reports conflicts and unknown fields as events.

// Kind names used by the legacy tables.
const (
	KindAzureIdentity             = "AzureIdentity"
	KindAzureIdentityBinding      = "AzureIdentityBinding"
	KindAzureAssignedIdentity     = "AzureAssignedIdentity"
	KindAzurePodIdentityException = "AzurePodIdentityException"
)

// LegacyField is one canonical spec field and the older spellings of it
// that the CRD declares explicitly.
type LegacyField struct {
	// Canonical is the camelCase key podid stores.
	Canonical string
	// Declared are the spellings seen in published manifests.
	Declared []string
	// Nested lists the fields of an object-valued field.
	Nested []LegacyField
}

var secretRefFields = []LegacyField{
	{Canonical: "name", Declared: []string{"Name"}},
	{Canonical: "namespace", Declared: []string{"Namespace"}},
}

var legacySpecFields = map[string][]LegacyField{
	KindAzureIdentity: {
		{Canonical: "type", Declared: []string{"Type"}},
		{Canonical: "resourceID", Declared: []string{"ResourceID"}},
		{Canonical: "clientID", Declared: []string{"ClientID"}},
		{Canonical: "clientPassword", Declared: []string{"ClientPassword"}, Nested: secretRefFields},
		{Canonical: "tenantID", Declared: []string{"TenantID", "TenantId"}},
		{Canonical: "auxiliaryTenantIDs", Declared: []string{"AuxiliaryTenantIDs"}},
		{Canonical: "adResourceID", Declared: []string{"ADResourceID"}},
		{Canonical: "adEndpoint", Declared: []string{"ADEndpoint"}},
		{Canonical: "replicas", Declared: []string{"Replicas"}},
	},
	KindAzureIdentityBinding: {
		{Canonical: "azureIdentity", Declared: []string{"AzureIdentity"}},
		{Canonical: "selector", Declared: []string{"Selector"}},
		{Canonical: "weight", Declared: []string{"Weight"}},
	},
	KindAzurePodIdentityException: {
		{Canonical: "podLabels", Declared: []string{"PodLabels"}},
	},
}

// LegacySpellings returns the spec fields of kind that have older spellings,
// or nil for a kind that has none.
func LegacySpellings(kind string) []LegacyField {
	return legacySpecFields[kind]
}

// Rename records that a value moved from an older spelling to its field.
type Rename struct{ From, To string }

// Conflict records two spellings of one field holding different values.
type Conflict struct{ Canonical, Legacy string }

// NormalizeResult says what NormalizeObject changed and what it could not.
type NormalizeResult struct {
	// Renamed lists values moved to their canonical field.
	Renamed []Rename
	// Conflicts lists fields spelled twice with different values; both are
	// kept and the canonical one wins until the user removes the other.
	Conflicts []Conflict
	// Unknown lists field paths that match no field of the kind.
	Unknown []string
}

// Changed reports whether NormalizeObject modified the object.
func (r NormalizeResult) Changed() bool { return len(r.Renamed) > 0 }

// Problems returns one sentence per conflict or unknown field, saying what
// is wrong and what to do, for events and conditions.
func (r NormalizeResult) Problems() []string {
	var out []string
	for _, c := range r.Conflicts {
		out = append(out, fmt.Sprintf("%s and %s hold different values; podid uses %s, remove %s or make them equal", c.Canonical, c.Legacy, c.Canonical, c.Legacy))
	}
	for _, u := range r.Unknown {
		out = append(out, fmt.Sprintf("%s is not a field of this kind and is ignored; check its spelling", u))
	}
	return out
}

// NormalizeObject rewrites the spec of an unstructured object of the given
// kind into canonical camelCase, in place, keeping every value: a value under
// an older or differently cased spelling moves to its canonical field, a
// duplicate equal to the canonical value is dropped, and anything it cannot
// place (a conflict, an unknown key) stays where it is and is reported.
// Kinds without legacy spellings are left alone.
func NormalizeObject(kind string, obj map[string]any) NormalizeResult {
	var res NormalizeResult
	fields := legacySpecFields[kind]
	if fields == nil {
		return res
	}
	spec, ok := obj["spec"].(map[string]any)
	if !ok {
		return res
	}
	normalizeMap(spec, fields, "spec", &res)
	sort.Slice(res.Unknown, func(i, j int) bool { return res.Unknown[i] < res.Unknown[j] })
	return res
}

// ignoredSpecKeys are keys old clients wrote that carry nothing: the
// aad-pod-identity Go types embedded an ObjectMeta in every spec.
var ignoredSpecKeys = map[string]bool{"metadata": true}

func normalizeMap(m map[string]any, fields []LegacyField, path string, res *NormalizeResult) {
	canonical := make(map[string]LegacyField, len(fields))
	for _, f := range fields {
		canonical[f.Canonical] = f
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic results and messages
	for _, key := range keys {
		if _, ok := canonical[key]; ok || ignoredSpecKeys[key] {
			continue
		}
		f, ok := matchFold(fields, key)
		if !ok {
			res.Unknown = append(res.Unknown, path+"."+key)
			continue
		}
		val := m[key]
		existing, has := m[f.Canonical]
		switch {
		case !has:
			m[f.Canonical] = val
			delete(m, key)
			res.Renamed = append(res.Renamed, Rename{From: path + "." + key, To: path + "." + f.Canonical})
		case sameJSON(existing, val):
			delete(m, key)
			res.Renamed = append(res.Renamed, Rename{From: path + "." + key, To: path + "." + f.Canonical})
		default:
			res.Conflicts = append(res.Conflicts, Conflict{Canonical: path + "." + f.Canonical, Legacy: path + "." + key})
		}
	}
	for _, f := range fields {
		if len(f.Nested) == 0 {
			continue
		}
		if sub, ok := m[f.Canonical].(map[string]any); ok {
			normalizeMap(sub, f.Nested, path+"."+f.Canonical, res)
		}
	}
}

func matchFold(fields []LegacyField, key string) (LegacyField, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Canonical, key) {
			return f, true
		}
	}
	return LegacyField{}, false
}

// sameJSON compares decoded JSON values, where 1 and 1.0 are the same number.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

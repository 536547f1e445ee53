// Package crdlegacy adds aad-pod-identity's older field spellings to the
// CustomResourceDefinitions that controller-gen generates from api/v1.
//
// controller-gen knows only the canonical camelCase fields. Manifests written
// before aad-pod-identity v1.6.0 use PascalCase (ClientID, ResourceID,
// Selector, ...), and a structural schema silently prunes unknown keys. So
// for every field in api/v1.LegacySpellings this package declares each older
// spelling with the canonical field's schema (validated at apply time like
// the canonical one), adds CEL rules that refuse two spellings with different
// values and that require a field in either spelling, and marks spec as
// preserving unknown fields so that any other casing survives until the
// controller normalises it.
package crdlegacy

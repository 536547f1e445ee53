package v1

import (
	"encoding/json"
	"testing"
)

// FuzzNormalizeObject runs the legacy-spelling normalizer on any JSON
// object, for every kind: it must not panic, and a second pass over its
// own output renames nothing (normalizing is idempotent).
func FuzzNormalizeObject(f *testing.F) {
	for _, s := range []string{
		`{"spec":{"ResourceID":"/x","ClientID":"c","type":0}}`,
		`{"spec":{"resourceID":"/x","ResourceID":"/y"}}`,
		`{"spec":{"ClientPassword":{"Name":"n","Namespace":"ns"}}}`,
		`{"spec":{"AzureIdentity":"a","Selector":"s"}}`,
		`{"spec":{"PodLabels":{"a":"b"}}}`,
		`{"spec":null}`,
		`{"spec":[1,2]}`,
	} {
		f.Add(s)
	}
	kinds := []string{KindAzureIdentity, KindAzureIdentityBinding, KindAzureAssignedIdentity, KindAzurePodIdentityException}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, kind := range kinds {
			var obj map[string]any
			if json.Unmarshal([]byte(doc), &obj) != nil {
				return
			}
			NormalizeObject(kind, obj)
			if again := NormalizeObject(kind, obj); again.Changed() {
				t.Fatalf("%s %s: a second pass renamed %v", kind, doc, again.Renamed)
			}
		}
	})
}

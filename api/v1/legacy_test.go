package v1

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestNormalizeObject(t *testing.T) {
	cases := map[string]struct {
		kind      string
		spec      string // JSON
		want      string // JSON of spec afterwards
		renamed   int
		conflicts []Conflict
		unknown   []string
	}{
		"a seed 002 managed identity in PascalCase moves to camelCase": {
			kind:    KindAzureIdentity,
			spec:    `{"type":0,"ResourceID":"/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i","ClientID":"c"}`,
			want:    `{"clientID":"c","resourceID":"/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i","type":0}`,
			renamed: 2,
		},
		"a seed 002 service principal keeps its secret reference and odd TenantId": {
			kind:    KindAzureIdentity,
			spec:    `{"type":1,"TenantId":"t","ClientID":"c","ClientPassword":{"Name":"sp","Namespace":"default"}}`,
			want:    `{"clientID":"c","clientPassword":{"name":"sp","namespace":"default"},"tenantID":"t","type":1}`,
			renamed: 5,
		},
		"any casing is accepted, as the old decoder did": {
			kind:    KindAzureIdentityBinding,
			spec:    `{"AZUREIDENTITY":"x","sElEcToR":"y"}`,
			want:    `{"azureIdentity":"x","selector":"y"}`,
			renamed: 2,
		},
		"a duplicate equal to the canonical value is dropped": {
			kind:    KindAzureIdentityBinding,
			spec:    `{"selector":"y","Selector":"y","azureIdentity":"x"}`,
			want:    `{"azureIdentity":"x","selector":"y"}`,
			renamed: 1,
		},
		"two spellings with different values are both kept and reported": {
			kind:      KindAzureIdentityBinding,
			spec:      `{"selector":"y","Selector":"z","azureIdentity":"x"}`,
			want:      `{"Selector":"z","azureIdentity":"x","selector":"y"}`,
			conflicts: []Conflict{{Canonical: "spec.selector", Legacy: "spec.Selector"}},
		},
		"an unknown field is kept and reported": {
			kind:    KindAzureIdentity,
			spec:    `{"type":0,"clientId2":"c"}`,
			want:    `{"clientId2":"c","type":0}`,
			unknown: []string{"spec.clientId2"},
		},
		"the embedded metadata old clients wrote is ignored silently": {
			kind: KindAzureIdentity,
			spec: `{"type":0,"metadata":{"creationTimestamp":null}}`,
			want: `{"metadata":{"creationTimestamp":null},"type":0}`,
		},
		"exception pod labels in PascalCase move": {
			kind:    KindAzurePodIdentityException,
			spec:    `{"PodLabels":{"app":"mic"}}`,
			want:    `{"podLabels":{"app":"mic"}}`,
			renamed: 1,
		},
		"assigned identities are the controller's own and left alone": {
			kind: KindAzureAssignedIdentity,
			spec: `{"Pod":"p"}`,
			want: `{"Pod":"p"}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var spec map[string]any
			if err := json.Unmarshal([]byte(tc.spec), &spec); err != nil {
				t.Fatal(err)
			}
			obj := map[string]any{"spec": spec}
			res := NormalizeObject(tc.kind, obj)
			got, _ := json.Marshal(obj["spec"])
			if string(got) != tc.want {
				t.Errorf("spec = %s\nwant   %s", got, tc.want)
			}
			if len(res.Renamed) != tc.renamed {
				t.Errorf("renamed %d fields (%v), want %d", len(res.Renamed), res.Renamed, tc.renamed)
			}
			if !reflect.DeepEqual(res.Conflicts, tc.conflicts) {
				t.Errorf("conflicts = %v, want %v", res.Conflicts, tc.conflicts)
			}
			if !reflect.DeepEqual(res.Unknown, tc.unknown) {
				t.Errorf("unknown = %v, want %v", res.Unknown, tc.unknown)
			}
			if res.Changed() != (tc.renamed > 0) {
				t.Errorf("Changed() = %v with %d renames", res.Changed(), tc.renamed)
			}
			if len(res.Problems()) != len(tc.conflicts)+len(tc.unknown) {
				t.Errorf("Problems() = %q", res.Problems())
			}
		})
	}
}

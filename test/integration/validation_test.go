package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller/normalize"
)

const (
	goodRID    = "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
	goodClient = "248b3285-aa4c-436f-b0da-8ab35ba2d14a"
)

func TestInvalidObjectsAreRefusedNamingTheField(t *testing.T) {
	cases := map[string]struct {
		kind string
		spec map[string]any
		// want lists text the API server's refusal must contain; empty
		// means the object must be accepted.
		want []string
	}{
		"type 7 is out of range": {
			kind: podidv1.KindAzureIdentity,
			spec: map[string]any{"type": int64(7), "clientID": goodClient},
			want: []string{"spec.type", "supported values"},
		},
		"resourceID abc is not an ARM ID": {
			kind: podidv1.KindAzureIdentity,
			spec: map[string]any{"type": int64(0), "resourceID": "abc", "clientID": goodClient},
			want: []string{"spec.resourceID", "\"abc\" is not the ARM ID", "az identity show"},
		},
		"the older spelling ResourceID is checked the same way": {
			kind: podidv1.KindAzureIdentity,
			spec: map[string]any{"type": int64(0), "ResourceID": "abc", "ClientID": goodClient},
			want: []string{"spec.ResourceID", "userAssignedIdentities"},
		},
		"a clientID that is not a GUID": {
			kind: podidv1.KindAzureIdentity,
			spec: map[string]any{"type": int64(0), "resourceID": goodRID, "clientID": "my-identity"},
			want: []string{"spec.clientID", "\"my-identity\" is not a client ID", "GUID"},
		},
		"two spellings of clientID that disagree": {
			kind: podidv1.KindAzureIdentity,
			spec: map[string]any{"type": int64(0), "clientID": goodClient, "ClientID": "00000000-0000-0000-0000-000000000001"},
			want: []string{"spec.ClientID", "different values"},
		},
		"a binding without selector": {
			kind: podidv1.KindAzureIdentityBinding,
			spec: map[string]any{"azureIdentity": "id1"},
			want: []string{"spec.selector", "Required value", "aadpodidbinding"},
		},
		"a binding with an empty selector": {
			kind: podidv1.KindAzureIdentityBinding,
			spec: map[string]any{"azureIdentity": "id1", "selector": ""},
			want: []string{"spec.selector"},
		},
		"a binding without spec at all": {
			kind: podidv1.KindAzureIdentityBinding,
			want: []string{"spec", "Required value"},
		},
		"a binding whose selector is spelled Selector is fine": {
			kind: podidv1.KindAzureIdentityBinding,
			spec: map[string]any{"AzureIdentity": "id1", "Selector": "demo"},
		},
		"a well-formed identity is accepted": {
			kind: podidv1.KindAzureIdentity,
			spec: map[string]any{"type": int64(0), "resourceID": goodRID, "clientID": goodClient},
		},
	}
	ns := env.NewNamespace(t)
	i := 0
	for name, tc := range cases {
		i++
		objName := "obj-" + string(rune('a'+i))
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(podidv1.GroupVersion.WithKind(tc.kind))
			u.SetNamespace(ns)
			u.SetName(objName)
			if tc.spec != nil {
				u.Object["spec"] = tc.spec
			}
			err := env.Client.Create(ctx, u)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused a valid object: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want a refusal mentioning %q", tc.want)
			}
			t.Logf("refused: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q does not mention %q", err, w)
				}
			}
		})
	}
}

// mic runs in federated mode here; an identity that asks for node mode
// needs a resource ID, and says so.
func TestIncompleteIdentityIsFlaggedInAnEvent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := env.NewNamespace(t)
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(podidv1.GroupVersion.WithKind(podidv1.KindAzureIdentity))
	u.SetNamespace(ns)
	u.SetName("no-resource-id")
	u.SetAnnotations(map[string]string{podidv1.TokenModeAnnotation: podidv1.TokenModeNode})
	u.Object["spec"] = map[string]any{"type": int64(0), "ClientID": goodClient}
	if err := env.Client.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	wantEvent(ctx, t, ns, "no-resource-id", normalize.ReasonIncompleteIdentity, "spec.resourceID: is empty")
}

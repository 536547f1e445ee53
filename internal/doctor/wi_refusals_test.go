package doctor

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestWITokenRefusals(t *testing.T) {
	// The agent's words for an expired projected token (internal/agent
	// tokenevents.go with tokens.Explain's AADSTS700024).
	const msg = "Azure AD refused a token for resource https://vault.azure.net (AADSTS700024): the client assertion is outside its validity period. Fix: check the node's clock"
	onAccount := func(ns, name string, age time.Duration) *corev1.Event {
		e := refusalEvent(ns, name, age, msg)
		e.InvolvedObject.Kind = "ServiceAccount"
		return &e
	}
	cases := map[string]struct {
		objs   []any
		want   []Status
		object string
		text   string
	}{
		"a refusal on the labelled pod's account fails with the agent's fix": {
			objs: []any{wiPod("apps", "web-1"), onAccount("apps", "app", time.Minute)},
			want: []Status{Fail}, object: "ServiceAccount apps/app", text: "(AADSTS700024)",
		},
		"two pods of one account give one finding": {
			objs: []any{wiPod("apps", "web-1"), wiPod("apps", "web-2"), onAccount("apps", "app", time.Minute)},
			want: []Status{Fail},
		},
		"an old refusal passes": {
			objs: []any{wiPod("apps", "web-1"), onAccount("apps", "app", time.Hour)},
			want: []Status{Pass}, text: "1 service account",
		},
		"a refusal on another namespace's account of the same name does not count": {
			objs: []any{wiPod("apps", "web-1"), onAccount("other", "app", time.Minute)},
			want: []Status{Pass},
		},
		"a refusal whose pod is not labelled says nothing": {
			objs: []any{wiPod("apps", "web-1", useLabel("")), onAccount("apps", "app", time.Minute)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := checkWITokenRefusals(facts(tc.objs...))
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v; want statuses %v", got, tc.want)
			}
			for i, s := range tc.want {
				if got[i].Status != s || !strings.Contains(got[i].Message, tc.text) || (tc.object != "" && got[i].Object != tc.object) {
					t.Fatalf("finding %d: %+v; want %s on %q with %q", i, got[i], s, tc.object, tc.text)
				}
			}
			if tc.want != nil && tc.want[0] == Fail && !strings.Contains(got[0].Fix, "check the node's clock") {
				t.Fatalf("fix %q is not the agent's", got[0].Fix)
			}
		})
	}
}

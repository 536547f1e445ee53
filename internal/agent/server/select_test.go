package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

const (
	clientA = "7eb6a1c2-0000-4000-8000-00000000a6a9"
	clientB = "11112222-0000-4000-8000-000000003333"
	resA    = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a"
)

func assigned(name, clientID, resID, state string) Assigned {
	return Assigned{Name: "default/" + name + "-aai", State: state,
		Identity: tokens.Identity{Name: "default/" + name, ClientID: clientID, ResourceID: resID}}
}

func TestSelectIdentity(t *testing.T) {
	pod := PodRef{Namespace: "default", Name: "app"}
	a := assigned("a", clientA, resA, v1.AssignedIDAssigned)
	b := assigned("b", clientB, "", v1.AssignedIDAssigned)
	aCreated := assigned("a", clientA, resA, v1.AssignedIDCreated)
	aGone := assigned("a", clientA, resA, v1.AssignedIDUnassigned)

	cases := map[string]struct {
		sel        Selector   // what the query names
		list       []Assigned // the pod's assignments
		want       string     // identity name chosen, "" when refused
		wantReason string     // refusal reason, "" when chosen
		wantStatus int        // refusal status
		wantWait   bool       // refusal may change soon
		wantIn     string     // text the message must contain
	}{
		"the only identity is chosen when the request names none": {
			list: []Assigned{a}, want: "default/a"},
		"an identity named by client ID is chosen among several": {
			sel: Selector{ClientID: clientB}, list: []Assigned{a, b}, want: "default/b"},
		"client IDs match case-insensitively": {
			sel: Selector{ClientID: strings.ToUpper(clientA)}, list: []Assigned{a, b}, want: "default/a"},
		"an identity named by resource ID is chosen case-insensitively": {
			sel: Selector{ResourceID: strings.ToLower(resA)}, list: []Assigned{a, b}, want: "default/a"},
		"two bindings of one identity count as one identity": {
			list: []Assigned{aCreated, a}, want: "default/a"},
		"several identities and no selector are refused naming the redacted client IDs": {
			list: []Assigned{a, b}, wantReason: ReasonAmbiguousIdentity, wantStatus: http.StatusBadRequest,
			wantIn: "7eb6##### REDACTED #####a6a9, 1111##### REDACTED #####3333"},
		"several identities and no selector: a workload-identity pod gets its service account's": {
			list: []Assigned{a, func() Assigned { d := b; d.Default = true; return d }()}, want: "default/b"},
		"a selector still picks a workload-identity pod's other identity": {
			sel: Selector{ClientID: clientA}, list: []Assigned{a, func() Assigned { d := b; d.Default = true; return d }()}, want: "default/a"},
		"a client ID the pod does not have is refused like IMDS does": {
			sel: Selector{ClientID: "99999999-0000-4000-8000-000000000000"}, list: []Assigned{a},
			wantReason: ReasonIdentityNotFound, wantStatus: http.StatusBadRequest, wantWait: true, wantIn: "Identity not found"},
		"an identity named by a known object ID is chosen case-insensitively": {
			sel: Selector{ObjectID: strings.ToUpper(oidB)}, list: []Assigned{withOID(a, oidA), withOID(b, oidB)}, want: "default/b"},
		"an object ID no identity carries is refused like IMDS does": {
			sel: Selector{ObjectID: "abc"}, list: []Assigned{withOID(a, oidA)},
			wantReason: ReasonIdentityNotFound, wantStatus: http.StatusBadRequest, wantWait: true, wantIn: "Identity not found: pod default/app has no identity with object_id abc"},
		"an identity whose object ID is not known is not chosen by object ID": {
			sel: Selector{ObjectID: oidA}, list: []Assigned{a},
			wantReason: ReasonIdentityNotFound, wantStatus: http.StatusBadRequest, wantWait: true, wantIn: "Identity not found"},
		"a pod without assignments is refused and may wait": {
			wantReason: ReasonNoIdentity, wantStatus: http.StatusBadRequest, wantWait: true, wantIn: "aadpodidbinding"},
		"an assignment being removed does not count": {
			list: []Assigned{aGone}, wantReason: ReasonNoIdentity, wantStatus: http.StatusBadRequest, wantWait: true},
		"an assignment not yet Assigned is answered with 503 and may wait": {
			list: []Assigned{aCreated}, wantReason: ReasonNotReady, wantStatus: http.StatusServiceUnavailable, wantWait: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ref := selectIdentity(tc.sel, pod, tc.list)
			if tc.wantReason == "" {
				if ref != nil {
					t.Fatalf("refused: %+v", ref)
				}
				if got.Identity.Name != tc.want {
					t.Fatalf("chose %q, want %q", got.Identity.Name, tc.want)
				}
				return
			}
			if ref == nil {
				t.Fatalf("chose %q, want refusal %s", got.Identity.Name, tc.wantReason)
			}
			if ref.Reason != tc.wantReason || ref.Status != tc.wantStatus || ref.Wait != tc.wantWait {
				t.Fatalf("refusal %+v, want reason %s status %d wait %v", ref, tc.wantReason, tc.wantStatus, tc.wantWait)
			}
			if !strings.Contains(ref.Message, tc.wantIn) {
				t.Fatalf("message %q does not contain %q", ref.Message, tc.wantIn)
			}
			if strings.Contains(ref.Message, clientA) || strings.Contains(ref.Message, clientB) {
				t.Fatalf("message %q shows an unredacted client ID", ref.Message)
			}
		})
	}
}

func TestSelectorFrom(t *testing.T) {
	cases := map[string]struct {
		query    string
		want     Selector
		conflict bool
	}{
		"msi_res_id is read":                   {query: "msi_res_id=x", want: Selector{ResourceID: "x"}},
		"mi_res_id is read as a resource ID":   {query: "mi_res_id=y", want: Selector{ResourceID: "y"}},
		"msi_res_id wins over mi_res_id":       {query: "msi_res_id=x&mi_res_id=y", want: Selector{ResourceID: "x"}},
		"client_id with object_id is refused":  {query: "client_id=a&object_id=b", conflict: true},
		"no selector leaves the choice to us":  {query: "resource=r"},
		"client_id alone selects by client ID": {query: "client_id=a", want: Selector{ClientID: "a"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ref := selectorFrom(parseQuery(tc.query))
			if (ref != nil) != tc.conflict {
				t.Fatalf("refusal %+v, want conflict %v", ref, tc.conflict)
			}
			if !tc.conflict && got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	notFound := &Refusal{Status: http.StatusBadRequest, Reason: ReasonIdentityNotFound, Wait: true}
	cases := map[string]struct {
		ref     *Refusal
		created time.Time
		want    int
	}{
		"a young pod without its identity is told to retry":   {ref: notFound, created: now.Add(-10 * time.Second), want: http.StatusServiceUnavailable},
		"an old pod without its identity is refused for good": {ref: notFound, created: now.Add(-time.Hour), want: http.StatusBadRequest},
		"a pod of unknown age is refused for good":            {ref: notFound, want: http.StatusBadRequest},
		"an ambiguous request stays refused whatever the age": {ref: &Refusal{Status: http.StatusBadRequest, Reason: ReasonAmbiguousIdentity}, created: now, want: http.StatusBadRequest},
		"a not-ready assignment stays 503":                    {ref: &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonNotReady, Wait: true}, want: http.StatusServiceUnavailable},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := settle(tc.ref, Caller{Created: tc.created}, now, time.Minute)
			if got.Status != tc.want || got.Wait {
				t.Fatalf("settled to %+v, want status %d and no wait", got, tc.want)
			}
		})
	}
}

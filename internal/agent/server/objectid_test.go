package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

const (
	oidA       = "aaaaaaaa-0000-4000-8000-0000000000a1"
	oidB       = "bbbbbbbb-0000-4000-8000-0000000000b2"
	oidUnknown = "99999999-0000-4000-8000-000000000099"
)

func withOID(a Assigned, oid string) Assigned {
	a.Identity.ObjectID = oid
	return a
}

// oidJWT looks like an Azure AD access token of the principal oid.
func oidJWT(clientID, oid, resource string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"k1"}`)) + "." +
		enc([]byte(fmt.Sprintf(`{"aud":%q,"appid":%q,"oid":%q,"tid":"t1"}`, resource, clientID, oid))) + "." +
		enc(make([]byte, 256))
}

// oidTokens issues tokens carrying each client ID's object ID, fails for
// the client IDs in errs, and counts calls by client ID and resource.
type oidTokens struct {
	now  func() time.Time
	oids map[string]string // client ID → object ID
	errs map[string]error  // client ID → error

	mu    sync.Mutex
	calls map[string]int // "clientID resource" → calls
}

func newOIDTokens(now func() time.Time) *oidTokens {
	return &oidTokens{now: now, oids: map[string]string{clientA: oidA, clientB: oidB}, errs: map[string]error{}, calls: map[string]int{}}
}

func (f *oidTokens) Token(_ context.Context, req tokens.Request) (tokens.Token, error) {
	cid := req.Identity.ClientID
	f.mu.Lock()
	f.calls[cid+" "+req.Resource]++
	f.mu.Unlock()
	if err := f.errs[cid]; err != nil {
		return tokens.Token{}, err
	}
	now := f.now()
	return tokens.Token{AccessToken: oidJWT(cid, f.oids[cid], req.Resource), ExpiresOn: now.Add(time.Hour), NotBefore: now,
		Resource: req.Resource, ClientID: cid, TokenType: "Bearer"}, nil
}

func (f *oidTokens) callsFor(clientID, resource string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[clientID+" "+resource]
}

var _ tokens.TokenSource = (*oidTokens)(nil)

func TestObjectIDsToLearn(t *testing.T) {
	a := assigned("a", clientA, resA, v1.AssignedIDAssigned)
	b := assigned("b", clientB, "", v1.AssignedIDAssigned)
	bCreated := assigned("b", clientB, "", v1.AssignedIDCreated)
	bGone := assigned("b", clientB, "", v1.AssignedIDUnassigned)

	cases := map[string]struct {
		sel  Selector   // what the query names
		list []Assigned // the pod's assignments, object IDs as known
		want []string   // identities whose tokens must be fetched
	}{
		"a request naming no object ID learns nothing": {
			sel: Selector{ClientID: clientA}, list: []Assigned{a, b}},
		"a known object ID that matches needs nothing more": {
			sel: Selector{ObjectID: oidB}, list: []Assigned{a, withOID(b, oidB)}},
		"every identity of unknown object ID is asked when none matches": {
			sel: Selector{ObjectID: oidB}, list: []Assigned{a, b}, want: []string{"default/a", "default/b"}},
		"identities whose object ID is known are not asked again": {
			sel: Selector{ObjectID: oidB}, list: []Assigned{withOID(a, oidA), b}, want: []string{"default/b"}},
		"an assignment not yet Assigned waits rather than being asked": {
			sel: Selector{ObjectID: oidB}, list: []Assigned{a, bCreated}, want: []string{"default/a"}},
		"an assignment being removed is not asked": {
			sel: Selector{ObjectID: oidB}, list: []Assigned{a, bGone}, want: []string{"default/a"}},
		"two bindings of one identity ask it once": {
			sel: Selector{ObjectID: oidB}, list: []Assigned{a, a}, want: []string{"default/a"}},
		"all object IDs known and none matching asks nobody": {
			sel: Selector{ObjectID: oidUnknown}, list: []Assigned{withOID(a, oidA), withOID(b, oidB)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, x := range objectIDsToLearn(tc.sel, tc.list) {
				got = append(got, x.Identity.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("asks %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWithObjectIDsKeepsKnownOnesAndCopies(t *testing.T) {
	a := assigned("a", clientA, resA, v1.AssignedIDAssigned)
	b := withOID(assigned("b", clientB, "", v1.AssignedIDAssigned), oidB)
	list := []Assigned{a, b}
	got := withObjectIDs(list, map[tokens.IdentityKey]string{a.Identity.Key(): oidA, b.Identity.Key(): "other"})
	if got[0].Identity.ObjectID != oidA || got[1].Identity.ObjectID != oidB {
		t.Fatalf("object IDs %q, %q", got[0].Identity.ObjectID, got[1].Identity.ObjectID)
	}
	if list[0].Identity.ObjectID != "" {
		t.Fatal("the input list was changed")
	}
}

func TestObjectIDRefusal(t *testing.T) {
	notFound := &Refusal{Status: http.StatusBadRequest, Reason: ReasonIdentityNotFound, Wait: true, Message: "Identity not found: x"}
	outage := learnFailure{identity: "default/a", err: errors.New("get token: dial tcp: refused"), retry: true}
	refused := learnFailure{identity: "default/b", err: errors.New("get token: token endpoint answered 401"), retry: false}
	cases := map[string]struct {
		ref        *Refusal
		failed     []learnFailure
		wantStatus int    // 0: no refusal
		wantIn     string // text the message must contain
	}{
		"no refusal stays none":                              {failed: []learnFailure{outage}},
		"a miss with every object ID learned stays a 400":    {ref: notFound, wantStatus: 400, wantIn: "Identity not found: x"},
		"a miss while an identity may still answer is a 503": {ref: notFound, failed: []learnFailure{refused, outage}, wantStatus: 503, wantIn: "retry shortly: default/b (get token: token endpoint answered 401); default/a"},
		"a miss with identities that cannot answer stays a 400 naming them": {
			ref: notFound, failed: []learnFailure{refused}, wantStatus: 400, wantIn: "Identity not found: x; the object IDs of these identities could not be learned: default/b"},
		"other refusals are left alone": {
			ref: &Refusal{Status: 400, Reason: ReasonAmbiguousIdentity, Message: "m"}, failed: []learnFailure{outage}, wantStatus: 400, wantIn: "m"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := objectIDRefusal(tc.ref, tc.failed)
			if tc.wantStatus == 0 {
				if got != nil {
					t.Fatalf("refusal %+v, want none", got)
				}
				return
			}
			if got == nil || got.Status != tc.wantStatus || !strings.Contains(got.Message, tc.wantIn) {
				t.Fatalf("refusal %+v, want status %d and %q", got, tc.wantStatus, tc.wantIn)
			}
		})
	}
}

func TestTokenByObjectID(t *testing.T) {
	const idNotFound = `{"error":"invalid_request","error_description":"Identity not found: pod default/app has no identity with object_id ` + oidUnknown
	cases := map[string]struct {
		objectID   string
		errs       map[string]error // client ID → token source error
		wantStatus int
		wantToken  string // access token, on 200
		wantPrefix string // body prefix otherwise
	}{
		"an object ID of the pod's second identity gets that identity's token": {
			objectID: oidB, wantStatus: 200, wantToken: oidJWT(clientB, oidB, "https://vault.azure.net")},
		"object IDs match case-insensitively": {
			objectID: strings.ToUpper(oidA), wantStatus: 200, wantToken: oidJWT(clientA, oidA, "https://vault.azure.net")},
		"an object ID none of the pod's identities has gets IMDS's 400": {
			objectID: oidUnknown, wantStatus: 400, wantPrefix: idNotFound + "; its identities have client IDs "},
		"an identity that cannot be asked does not hide the one named": {
			objectID: oidB, errs: map[string]error{clientA: errors.New("dial tcp: refused")}, wantStatus: 200, wantToken: oidJWT(clientB, oidB, "https://vault.azure.net")},
		"a miss while an identity's token is briefly unavailable is retried": {
			objectID: oidUnknown, errs: map[string]error{clientA: errors.New("dial tcp: refused")}, wantStatus: 503,
			wantPrefix: `{"error":"temporarily_unavailable","error_description":"the object IDs of some identities of the pod are not known yet`},
		"a miss while an identity is refused by Azure AD stays a 400": {
			objectID: oidUnknown, errs: map[string]error{clientA: &tokens.Error{Status: 401, Code: "invalid_client"}}, wantStatus: 400,
			wantPrefix: idNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src := newOIDTokens(func() time.Time { return fixedNow })
			for k, v := range tc.errs {
				src.errs[k] = v
			}
			e := newEnv(t, func(o *Options) { o.Tokens = src })
			e.cluster.addPod("10.0.0.5", Caller{Pod: appPod},
				assigned("a", clientA, resA, v1.AssignedIDAssigned), assigned("b", clientB, "", v1.AssignedIDAssigned))
			w := e.do("GET", tokenURL+"&object_id="+tc.objectID, "10.0.0.5", md)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantStatus == 200 {
				if !strings.Contains(w.Body.String(), `"access_token":"`+tc.wantToken+`"`) {
					t.Fatalf("body %s lacks the token %s", w.Body, tc.wantToken)
				}
				return
			}
			if !strings.HasPrefix(w.Body.String(), tc.wantPrefix) {
				t.Fatalf("body\n %s\nwant prefix\n %s", w.Body, tc.wantPrefix)
			}
		})
	}
}

// TestObjectIDsAreRememberedByTheCache: once the cache has seen a token of
// each identity, a request by object ID for another resource asks upstream
// for the named identity only.
func TestObjectIDsAreRememberedByTheCache(t *testing.T) {
	src := newOIDTokens(func() time.Time { return fixedNow })
	cache, err := tokens.NewCache(src, tokens.CacheOptions{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.Tokens = cache })
	e.cluster.addPod("10.0.0.5", Caller{Pod: appPod},
		assigned("a", clientA, resA, v1.AssignedIDAssigned), assigned("b", clientB, "", v1.AssignedIDAssigned))

	if w := e.do("GET", tokenURL+"&object_id="+oidB, "10.0.0.5", md); w.Code != 200 {
		t.Fatalf("first request: status %d: %s", w.Code, w.Body)
	}
	const vault = "https://vault.azure.net"
	if a, b := src.callsFor(clientA, vault), src.callsFor(clientB, vault); a != 1 || b != 1 {
		t.Fatalf("first request: %d and %d upstream calls for a and b, want 1 each (the token of b is cached)", a, b)
	}
	const storage = "https://storage.azure.com"
	w := e.do("GET", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="+storage+"&object_id="+oidB, "10.0.0.5", md)
	if w.Code != 200 || !strings.Contains(w.Body.String(), oidJWT(clientB, oidB, storage)) {
		t.Fatalf("second request: status %d: %s", w.Code, w.Body)
	}
	if a, b := src.callsFor(clientA, storage), src.callsFor(clientB, storage); a != 0 || b != 1 {
		t.Fatalf("second request: %d and %d upstream calls for a and b, want 0 and 1", a, b)
	}
}

// TestManagedIdentityCredentialByObjectIDGetsThatIdentitysToken: azidentity
// sends object_id for azidentity.ObjectID, and the agent answers with the
// pod's identity of that object ID.
func TestManagedIdentityCredentialByObjectIDGetsThatIdentitysToken(t *testing.T) {
	clearAzureEnv(t)
	src := newOIDTokens(time.Now)
	e := newEnv(t, func(o *Options) { o.Tokens = src; o.Now = time.Now })
	e.cluster.addPod("127.0.0.1", Caller{Pod: appPod},
		assigned("a", clientA, resA, v1.AssignedIDAssigned), assigned("b", clientB, "", v1.AssignedIDAssigned))
	rec := &seen{next: e.handler}
	client := startAgent(t, rec)
	for _, tc := range []struct {
		oid, clientID string
	}{{oidB, clientB}, {oidA, clientA}} {
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: policy.ClientOptions{Transport: client},
			ID:            azidentity.ObjectID(tc.oid),
		})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://mi-oid.example/.default"}})
		if err != nil {
			t.Fatalf("get token by object ID %s: %v", tc.oid, err)
		}
		if want := oidJWT(tc.clientID, tc.oid, "https://mi-oid.example"); tok.Token != want {
			t.Fatalf("token %q, want %q", tok.Token, want)
		}
	}
	rec.mu.Lock()
	first := append([]string(nil), rec.reqs...)
	rec.mu.Unlock()
	if len(first) == 0 || !strings.Contains(first[0], "object_id="+oidB) {
		t.Fatalf("requests %q, want object_id in the query", first)
	}

	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: client, Retry: policy.RetryOptions{MaxRetries: -1}},
		ID:            azidentity.ObjectID(oidUnknown),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://mi-oid.example/.default"}})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != 400 {
		t.Fatalf("error %v, want AuthenticationFailedError with status 400", err)
	}
	if !strings.Contains(err.Error(), `"error_description": "Identity not found: `) {
		t.Fatalf("error text lacks IMDS's Identity not found: %v", err)
	}
}

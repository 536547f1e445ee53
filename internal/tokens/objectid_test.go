package tokens

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func jwtWithPayload(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestObjectIDOf(t *testing.T) {
	cases := map[string]struct {
		token  string
		want   string
		wantIn string // error text, when an error is wanted
	}{
		"the oid claim is the object ID": {
			token: jwtWithPayload(`{"aud":"https://vault.azure.net","oid":"5d3b1a2c-0000-4000-8000-000000000001","tid":"t"}`),
			want:  "5d3b1a2c-0000-4000-8000-000000000001"},
		"a payload padded at its end is read": {
			token: func() string {
				p := strings.Split(jwtWithPayload(`{"oid":"x"}`), ".")
				return p[0] + "." + p[1] + "==" + "." + p[2]
			}(), want: "x"},
		"an opaque token is refused":     {token: "opaque-token", wantIn: "not a JWT"},
		"a token without oid is named":   {token: jwtWithPayload(`{"sub":"s"}`), wantIn: "no oid claim"},
		"a payload that is not JSON":     {token: jwtWithPayload(`oid`), wantIn: "decode access token claims"},
		"a payload that is not base64":   {token: "a.!!!.c", wantIn: "decode access token payload"},
		"an oid that is not a string":    {token: jwtWithPayload(`{"oid":42}`), wantIn: "decode access token claims"},
		"an empty token is not a JWT":    {token: "", wantIn: "not a JWT"},
		"a four-part token is not a JWT": {token: "a.b.c.d", wantIn: "not a JWT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ObjectIDOf(tc.token)
			if tc.wantIn != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
					t.Fatalf("got %q, %v; want error with %q", got, err, tc.wantIn)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// oidSource issues JWTs whose oid is the identity's name plus "-oid".
type oidSource struct{ now func() time.Time }

func (s oidSource) Token(_ context.Context, r Request) (Token, error) {
	return Token{AccessToken: jwtWithPayload(`{"oid":"` + r.Identity.Name + `-oid"}`), ExpiresOn: s.now().Add(time.Hour)}, nil
}

func TestCacheRemembersObjectIDsOfTheTokensItStores(t *testing.T) {
	now := func() time.Time { return t0 }
	c, err := NewCache(oidSource{now: now}, CacheOptions{MaxEntries: 2, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := func(name string) IdentityKey { return req(name, "").Identity.Key() }
	if got := c.ObjectID(key("a")); got != "" {
		t.Fatalf("object ID %q before any token", got)
	}
	for _, name := range []string{"a", "b"} {
		if _, err := c.Token(ctx, req(name, "r")); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.ObjectID(key("a")); got != "a-oid" {
		t.Fatalf("object ID of a %q, want a-oid", got)
	}
	c.Evict(key("a"))
	if got := c.ObjectID(key("a")); got != "" {
		t.Fatalf("object ID of a %q after Evict, want none", got)
	}
	for _, name := range []string{"c", "d", "e"} {
		if _, err := c.Token(ctx, req(name, "r")); err != nil {
			t.Fatal(err)
		}
	}
	known := 0
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if c.ObjectID(key(name)) != "" {
			known++
		}
	}
	if known > 2 || c.ObjectID(key("e")) != "e-oid" {
		t.Fatalf("%d object IDs kept with MaxEntries 2 (e: %q), want at most 2 and the latest", known, c.ObjectID(key("e")))
	}
}

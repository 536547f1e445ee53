package acrcred

import (
	"io"
	"strings"
	"testing"
	"time"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func TestParseChallenge(t *testing.T) {
	cases := map[string]struct {
		h       string
		want    ChallengeInfo
		wantErr bool
	}{
		"ACR's challenge": {h: `Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"`,
			want: ChallengeInfo{Realm: "https://r.azurecr.io/oauth2/token", Service: "r.azurecr.io"}},
		"a scope with commas inside quotes": {h: `Bearer realm="https://r.azurecr.io/oauth2/token",scope="repository:a:pull,push",service="r.azurecr.io"`,
			want: ChallengeInfo{Realm: "https://r.azurecr.io/oauth2/token", Service: "r.azurecr.io"}},
		"Basic is not Azure AD login": {h: `Basic realm="x"`, wantErr: true},
		"no service":                  {h: `Bearer realm="https://r.azurecr.io/oauth2/token"`, wantErr: true},
		"a plain-http realm":          {h: `Bearer realm="http://r.azurecr.io/oauth2/token",service="r"`, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseChallenge(tc.h)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseChallenge = %+v, %v", got, err)
			}
		})
	}
}

func TestExpiryOf(t *testing.T) {
	// {"exp":1700000000}
	if got := expiryOf("e30.eyJleHAiOjE3MDAwMDAwMDB9.c2ln"); !got.Equal(time.Unix(1_700_000_000, 0)) {
		t.Fatalf("expiryOf = %v", got)
	}
	if got := expiryOf("opaque"); !got.IsZero() {
		t.Fatalf("expiryOf(opaque) = %v", got)
	}
}

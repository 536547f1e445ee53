package token

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"https://vault.azure.net","oid":"o-1","exp":1700000000}`))
	jwt := "eyJhbGciOiJSUzI1NiJ9." + payload + ".c2ln"
	body := []byte(`{"access_token":"` + jwt + `","resource":"https://vault.azure.net","token_type":"Bearer"}`)
	cases := map[string]struct {
		body    []byte
		output  string
		want    []string
		notWant string
		wantErr string
	}{
		"claims are decoded and the token is not printed": {body: body, output: OutputClaims,
			want: []string{`"aud": "https://vault.azure.net"`, `"exp": 1700000000`}, notWant: jwt},
		"json keeps the response but redacts the token": {body: body, output: OutputJSON,
			want: []string{`"token_type": "Bearer"`, redacted}, notWant: jwt},
		"raw prints the token alone":     {body: body, output: OutputRaw, want: []string{jwt + "\n"}},
		"an unknown output is refused":   {body: body, output: "yaml", wantErr: `-o "yaml"`},
		"a response without a token":     {body: []byte(`{"error":"x"}`), output: OutputClaims, wantErr: "no access_token"},
		"a token that is not a JWT":      {body: []byte(`{"access_token":"abc"}`), output: OutputClaims, wantErr: "not a JWT"},
		"a body that is not JSON at all": {body: []byte(`<html>`), output: OutputClaims, wantErr: "decode token response"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := format(tc.body, tc.output)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Fatalf("output lacks %q:\n%s", w, got)
				}
			}
			if tc.notWant != "" && strings.Contains(got, tc.notWant) {
				t.Fatalf("output holds %q:\n%s", tc.notWant, got)
			}
		})
	}
}

package imds

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAppendJSONMatchesMarshal pins the hand-written encoding to
// encoding/json's, for ordinary tokens and for strings it escapes.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok := NewToken("eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln", "11111111-2222-3333-4444-555555555555",
		"https://vault.azure.net", "", now.Add(time.Hour), time.Time{}, now)
	odd := []string{"", `a"b`, `back\slash`, "<script>&", "tab\tnew\nline", "\x00\x1f", "é", "\u2028\u2029", "bad\xffutf8"}
	cases := []Token{tok, {}}
	for _, s := range odd {
		c := tok
		c.AccessToken, c.Resource, c.TokenType = s, s+"r", "x"+s
		cases = append(cases, c)
	}
	for _, c := range cases {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON(%q):\n got %s\nwant %s", c.AccessToken, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"eyJ0.eyJ1.c2ln", "https://management.azure.com/", "<&>", "\"\\", "\xff", strings.Repeat("a", 40)} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		tok := Token{AccessToken: a, ClientID: b, ExpiresIn: "1", ExpiresOn: "2", ExtExpiresIn: "3", NotBefore: "4", Resource: b + a, TokenType: "Bearer"}
		want, err := json.Marshal(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON differs from json.Marshal:\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkTokenJSON compares the two encodings of a token body.
func BenchmarkTokenJSON(b *testing.B) {
	now := time.Now()
	tok := NewToken(strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 70), "11111111-2222-3333-4444-555555555555",
		"https://vault.azure.net", "", now.Add(time.Hour), time.Time{}, now)
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(tok)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf = tok.AppendJSON(buf[:0])
		}
	})
}

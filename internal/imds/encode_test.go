package imds

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func FuzzAppendToken(f *testing.F) {
	for _, s := range []string{"eyJ0.eyJ1.c2ln", "https://management.azure.com/", "<&>", "\"\\", "\xff", strings.Repeat("a", 40)} {
		f.Add(s, s+"x", int64(3600))
	}
	f.Fuzz(func(t *testing.T, a, b string, in int64) {
		now := time.Unix(1_800_000_000, 0)
		exp := now.Add(time.Duration(in%(1<<40)) * time.Second)
		want, err := json.Marshal(NewToken(a, b, b+a, a, exp, time.Time{}, now))
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendToken(nil, a, b, b+a, a, exp, time.Time{}, now); string(got) != string(want) {
			t.Fatalf("AppendToken differs from json.Marshal:\n got %s\nwant %s", got, want)
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
			buf = AppendToken(buf[:0], tok.AccessToken, tok.ClientID, tok.Resource, "", now.Add(time.Hour), time.Time{}, now)
		}
	})
}

// AppendToken writes what NewToken's body marshals to, for tokens whose
// strings need escapes or not, with and without notBefore and type, and
// for a token already expired.
func TestAppendTokenMatchesNewToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 500_000_000)
	for _, s := range []string{"eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln", "", `a"b`, "é", "bad\xffutf8"} {
		for _, nbf := range []time.Time{{}, now.Add(-5 * time.Minute)} {
			for _, exp := range []time.Time{now.Add(time.Hour), now.Add(-time.Second), now.Add(1500 * time.Millisecond)} {
				for _, typ := range []string{"", "pop"} {
					want, err := json.Marshal(NewToken(s, "cid"+s, "https://vault.azure.net"+s, typ, exp, nbf, now))
					if err != nil {
						t.Fatal(err)
					}
					if got := AppendToken([]byte("prefix"), s, "cid"+s, "https://vault.azure.net"+s, typ, exp, nbf, now); string(got) != "prefix"+string(want) {
						t.Errorf("AppendToken(%q, exp %s, nbf %s, %q):\n got %s\nwant prefix%s", s, exp, nbf, typ, got, want)
					}
				}
			}
		}
	}
}

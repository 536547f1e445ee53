package logging

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

// sample values: plain ones the fast path writes, and odd ones it must
// leave to slog (escapes, non-ASCII, kinds it does not write), picked one
// time in six so that many records are wholly plain.
var (
	plainStrings = []string{"", "GET", "/metadata/identity/oauth2/token", "10.244.1.17:53422", "request served",
		"a=b", "https://vault.azure.net", "<html>&amp;", "k8s.io/pod-name", "1234##### REDACTED #####cdef"}
	oddStrings   = []string{"say \"hi\"", `back\slash`, "tab\there", "line\nbreak", "ünïcode", "\u2028", "\x7f", "bad\xffutf8"}
	plainKeys    = []string{"method", "path", "remote", "status", "error", "x=y", "a key"}
	oddKeys      = []string{"", "quo\"te", "ключ"}
	sampleLevels = []slog.Level{slog.LevelInfo, slog.LevelDebug, slog.LevelWarn, slog.LevelError, -1, -4, 2, 12}
	sampleTimes  = []time.Time{time.Time{}, time.Now(), time.Date(2026, 12, 3, 19, 40, 0, 0, time.UTC),
		time.Date(2026, 12, 3, 19, 40, 0, 123456789, time.FixedZone("X", 3600)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.UTC)}
)

func pick(r *rand.Rand, plain, odd []string) string {
	if r.IntN(6) == 0 {
		return odd[r.IntN(len(odd))]
	}
	return plain[r.IntN(len(plain))]
}

func sampleValue(r *rand.Rand) slog.Value {
	switch r.IntN(18) {
	case 0, 1:
		return slog.Int64Value(r.Int64N(1<<40) - 1<<39)
	case 2:
		return slog.Uint64Value(r.Uint64())
	case 3:
		return slog.BoolValue(r.IntN(2) == 0)
	case 4, 5:
		return slog.DurationValue(time.Duration(r.Int64N(int64(time.Hour))))
	case 6:
		return slog.Float64Value(r.Float64())
	case 7:
		return slog.AnyValue(fmt.Errorf("wrapped: %w", context.Canceled))
	case 8:
		return slog.GroupValue(slog.String("inner", pick(r, plainStrings, oddStrings)))
	default:
		return slog.StringValue(pick(r, plainStrings, oddStrings))
	}
}

func sampleAttrs(r *rand.Rand, n int) []slog.Attr {
	as := make([]slog.Attr, n)
	for i := range as {
		as[i] = slog.Attr{Key: pick(r, plainKeys, oddKeys), Value: sampleValue(r)}
	}
	return as
}

// Every record, plain or not, through WithAttrs and WithGroup, comes out
// of podid's handler byte for byte as out of slog's own.
func TestFastHandlerWritesWhatSlogWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, format := range []string{FormatJSON, FormatText} {
		fastOnes := 0
		for i := range 20000 {
			var fast, slow bytes.Buffer
			opts := &slog.HandlerOptions{Level: slog.Level(-8)}
			var fh, sh slog.Handler = newFastHandler(&fast, format == FormatJSON, opts), slog.NewTextHandler(&slow, opts)
			if format == FormatJSON {
				sh = slog.NewJSONHandler(&slow, opts)
			}
			switch r.IntN(4) {
			case 0:
				as := sampleAttrs(r, 1+r.IntN(2))
				fh, sh = fh.WithAttrs(as), sh.WithAttrs(as)
			case 1:
				fh, sh = fh.WithGroup("g"), sh.WithGroup("g")
			}
			rec := slog.NewRecord(sampleTimes[r.IntN(len(sampleTimes))], sampleLevels[r.IntN(len(sampleLevels))],
				pick(r, plainStrings, oddStrings), 0)
			rec.AddAttrs(sampleAttrs(r, r.IntN(10))...)
			if f, ok := fh.(*fastHandler); ok && !f.slowOnly {
				if _, ok := f.appendRecord(nil, rec); ok {
					fastOnes++
				}
			}
			if err := fh.Handle(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			if err := sh.Handle(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			if fast.String() != slow.String() {
				t.Fatalf("%s record %d:\npodid: %q\nslog:  %q", format, i, fast.String(), slow.String())
			}
		}
		// Plain records must be common enough that the fast path is
		// what is being compared.
		if fastOnes < 2000 {
			t.Errorf("%s: only %d of 20000 records took the fast path", format, fastOnes)
		}
		t.Logf("%s: %d of 20000 records took the fast path", format, fastOnes)
	}
}

// The node agent's request line is written by the fast path, not left to
// slog: without this, the test above would pass with a handler that never
// takes it.
func TestRequestLineTakesTheFastPath(t *testing.T) {
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request served", 0)
	rec.AddAttrs(slog.String("method", "GET"), slog.String("path", "/metadata/identity/oauth2/token"),
		slog.String("remote", "10.244.1.17:53422"), slog.Int("status", 200), slog.Duration("duration", 53*time.Microsecond),
		slog.String("pod", "default/app"), slog.String("identity", "reader"), slog.String("clientid", "1234##### REDACTED #####cdef"),
		slog.String("resource", "https://vault.azure.net"))
	for _, json := range []bool{true, false} {
		h := newFastHandler(&bytes.Buffer{}, json, nil).WithAttrs([]slog.Attr{slog.String("component", "server")}).(*fastHandler)
		if h.slowOnly {
			t.Fatalf("json=%t: a plain WithAttrs turned the fast path off", json)
		}
		if _, ok := h.appendRecord(nil, rec); !ok {
			t.Errorf("json=%t: the request line did not take the fast path", json)
		}
	}
}

// FuzzFastHandler holds the fast path to slog's output for any key,
// string and message.
func FuzzFastHandler(f *testing.F) {
	f.Add("method", "GET", "request served", int64(200))
	f.Add("a b", "x=y", "", int64(-1))
	f.Add("k", "\x00", "ü", int64(0))
	f.Fuzz(func(t *testing.T, key, value, msg string, n int64) {
		for _, json := range []bool{true, false} {
			var fast, slow bytes.Buffer
			var sh slog.Handler = slog.NewTextHandler(&slow, nil)
			if json {
				sh = slog.NewJSONHandler(&slow, nil)
			}
			rec := slog.NewRecord(time.Date(2026, 12, 3, 0, 0, 0, int(n&0xfffffff), time.UTC), slog.LevelInfo, msg, 0)
			rec.AddAttrs(slog.String(key, value), slog.Int64(key, n), slog.Duration(value, time.Duration(n)))
			_ = newFastHandler(&fast, json, nil).Handle(context.Background(), rec)
			_ = sh.Handle(context.Background(), rec)
			if fast.String() != slow.String() {
				t.Fatalf("json=%t:\npodid: %q\nslog:  %q", json, fast.String(), slow.String())
			}
		}
	})
}

// BenchmarkRequestLine writes the node agent's request line with slog's
// JSON handler and with podid's, to io.Discard.
func BenchmarkRequestLine(b *testing.B) {
	attrs := []slog.Attr{slog.String("method", "GET"), slog.String("path", "/metadata/identity/oauth2/token"),
		slog.String("remote", "10.244.1.17:53422"), slog.Int("status", 200), slog.Duration("duration", 53*time.Microsecond),
		slog.String("pod", "default/app"), slog.String("identity", "reader"), slog.String("clientid", "1234##### REDACTED #####cdef"),
		slog.String("resource", "https://vault.azure.net")}
	for name, h := range map[string]slog.Handler{
		"slog":  slog.NewJSONHandler(io.Discard, nil),
		"podid": newFastHandler(io.Discard, true, nil),
	} {
		b.Run(name, func(b *testing.B) {
			log := slog.New(h)
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(context.Background(), slog.LevelInfo, "request served", attrs...)
			}
		})
	}
}

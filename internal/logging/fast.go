package logging

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fastHandler writes the records every daemon writes most (the node
// agent's one line per request) itself, byte for byte as slog's own JSON or
// text handler would, and hands every other record to that handler. slog's
// handlers are general (groups, LogValuers, any value, escaping of any
// rune) and spend about 2 µs on a ten-attribute line; a line of plain
// strings, numbers, booleans and durations needs a third of that. Which
// records qualify is decided per record by appendRecord; fast_test.go holds
// the two writers to the same bytes.
type fastHandler struct {
	slow slog.Handler
	w    io.Writer // safe for concurrent use, one line per call
	json bool
	// pre holds the attributes added by WithAttrs, formatted, each with its
	// leading separator.
	pre []byte
	// slowOnly is set once a group is opened or an attribute that is not
	// plain is added: from then on slog's handler writes every record.
	slowOnly bool
}

// lockedWriter serializes the writes of the fast and the slow handler,
// each of which writes a whole line in one call.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newFastHandler(w io.Writer, json bool, opts *slog.HandlerOptions) *fastHandler {
	// A BatchWriter takes whole lines from many writers at once; a lock
	// around it would leave it nothing to batch.
	if _, ok := w.(*BatchWriter); !ok {
		w = &lockedWriter{w: w}
	}
	h := &fastHandler{w: w, json: json}
	if json {
		h.slow = slog.NewJSONHandler(w, opts)
	} else {
		h.slow = slog.NewTextHandler(w, opts)
	}
	return h
}

func (h *fastHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.slow.Enabled(ctx, l)
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *fastHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.handle(ctx, r)
	if bw, ok := h.w.(*BatchWriter); ok && r.Level >= slog.LevelWarn {
		bw.Flush() // what needs attention is not held back
	}
	return err
}

func (h *fastHandler) handle(ctx context.Context, r slog.Record) error {
	if h.slowOnly {
		return h.slow.Handle(ctx, r)
	}
	bp := linePool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 16<<10 { // keep the pool's buffers small
			linePool.Put(bp)
		}
	}()
	b, ok := h.appendRecord((*bp)[:0], r)
	*bp = b
	if !ok {
		return h.slow.Handle(ctx, r)
	}
	_, err := h.w.Write(b)
	return err
}

// appendRecord writes r as slog's handler would, or reports that r is not
// plain (a value of another kind, a string needing escapes, a year RFC 3339
// cannot hold), for slog's handler to write.
func (h *fastHandler) appendRecord(b []byte, r slog.Record) ([]byte, bool) {
	if !plainString(r.Message) || !plainString(r.Level.String()) {
		return b, false
	}
	if h.json {
		b = append(b, '{')
	}
	sep := ""
	if t := r.Time.Round(0); !t.IsZero() {
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = h.appendKey(b, sep, slog.TimeKey)
		if h.json {
			b = append(b, '"')
			b = t.AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		} else {
			b = appendRFC3339Millis(b, t)
		}
		sep = h.sep()
	}
	b = h.appendKey(b, sep, slog.LevelKey)
	b = h.appendString(b, r.Level.String())
	b = h.appendKey(b, h.sep(), slog.MessageKey)
	b = h.appendString(b, r.Message)
	b = append(b, h.pre...)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		b, ok = h.appendAttr(b, a)
		return ok
	})
	if !ok {
		return b, false
	}
	if h.json {
		b = append(b, '}')
	}
	return append(b, '\n'), true
}

func (h *fastHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.slow = h.slow.WithAttrs(as)
	if n.slowOnly {
		return &n
	}
	pre := append([]byte(nil), h.pre...)
	for _, a := range as {
		var ok bool
		if pre, ok = h.appendAttr(pre, a); !ok {
			n.slowOnly = true
			return &n
		}
	}
	n.pre = pre
	return &n
}

func (h *fastHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.slow = h.slow.WithGroup(name)
	n.slowOnly = n.slowOnly || name != ""
	return &n
}

func (h *fastHandler) sep() string {
	if h.json {
		return ","
	}
	return " "
}

func (h *fastHandler) appendKey(b []byte, sep, key string) []byte {
	b = append(b, sep...)
	b = h.appendString(b, key)
	if h.json {
		return append(b, ':')
	}
	return append(b, '=')
}

// appendAttr writes a plain attribute with its leading separator, or
// reports that a is not plain.
func (h *fastHandler) appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" || !plainString(a.Key) {
		return b, false
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); plainString(s) {
			return h.appendString(h.appendKey(b, h.sep(), a.Key), s), true
		}
	case slog.KindInt64:
		return strconv.AppendInt(h.appendKey(b, h.sep(), a.Key), v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(h.appendKey(b, h.sep(), a.Key), v.Uint64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(h.appendKey(b, h.sep(), a.Key), v.Bool()), true
	case slog.KindDuration:
		b = h.appendKey(b, h.sep(), a.Key)
		if h.json {
			return strconv.AppendInt(b, int64(v.Duration()), 10), true
		}
		return append(b, v.Duration().String()...), true
	}
	return b, false
}

// appendString writes a plain string as slog does: quoted in JSON (a plain
// string needs no escape there), in text quoted only when it has a space,
// a quote or an equals sign, or is empty.
func (h *fastHandler) appendString(b []byte, s string) []byte {
	if h.json {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	if textNeedsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// plainString reports whether s is printable ASCII without a quote or a
// backslash: JSON needs no escape for it and text at most strconv's quotes.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// textNeedsQuoting is slog's rule for a plain string: empty, or holding a
// space or an equals sign.
func textNeedsQuoting(s string) bool {
	return s == "" || strings.ContainsAny(s, " =")
}

// appendRFC3339Millis is the text handler's time: RFC 3339 with exactly
// three fractional digits, truncated.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/podid/podid/internal/httpstatus"
	"github.com/podid/podid/internal/tokens"
)

// middleware wraps a handler; chain applies them so the last one listed is
// the outermost.
type middleware func(http.Handler) http.Handler

func chain(h http.Handler, mws ...middleware) http.Handler {
	for _, mw := range mws {
		h = mw(h)
	}
	return h
}

// record collects what the handler decided, for the log line and metrics.
type record struct {
	route    string
	pod      string
	identity string
	clientID string
	resource string
	reason   string
	err      error
}

type recordKey struct{}

// routeOf returns the request's record; a throwaway one outside the
// middleware, so handlers never check for nil.
func routeOf(ctx context.Context) *record {
	if r, ok := ctx.Value(recordKey{}).(*record); ok {
		return r
	}
	return &record{}
}

// exchange is one request's status and record, allocated together.
type exchange struct {
	httpstatus.Writer
	rec record
}

// withObservation logs one line per request in the spirit of
// aad-pod-identity (method, path, remote, status, duration), plus the pod,
// the identity with its client ID redacted and the refusal reason, and
// counts and times the request by route and status. Tokens are never
// logged. (One middleware for both: the warm path pays for one clock
// pair, one status writer and one record.)
func withObservation(log *slog.Logger, m *Metrics, now func() time.Time) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			ex := &exchange{Writer: httpstatus.Writer{ResponseWriter: w}}
			r = r.WithContext(context.WithValue(r.Context(), recordKey{}, &ex.rec))
			next.ServeHTTP(&ex.Writer, r)
			end := now()
			took, rec := end.Sub(start), &ex.rec
			if m != nil {
				m.observeRequest(rec.route, ex.Status, took)
			}
			// The handler directly rather than log.LogAttrs: a record
			// built here skips the call-stack capture (the line has no
			// source) and a second clock read.
			h, ctx := log.Handler(), r.Context()
			if !h.Enabled(ctx, slog.LevelInfo) {
				return
			}
			var buf [10]slog.Attr
			attrs := append(buf[:0],
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("remote", r.RemoteAddr), slog.Int("status", ex.Status),
				slog.Duration("duration", took))
			if rec.pod != "" {
				attrs = append(attrs, slog.String("pod", rec.pod))
			}
			if rec.identity != "" {
				attrs = append(attrs, slog.String("identity", rec.identity), slog.String("clientid", tokens.RedactClientID(rec.clientID)),
					slog.String("resource", rec.resource))
			}
			if rec.reason != "" {
				attrs = append(attrs, slog.String("reason", rec.reason))
			}
			if rec.err != nil {
				attrs = append(attrs, slog.String("error", rec.err.Error()))
			}
			line := slog.NewRecord(end, slog.LevelInfo, "request served", 0)
			line.AddAttrs(attrs...)
			_ = h.Handle(ctx, line)
		})
	}
}

// withRecovery turns a panic into a 500 and a log line.
func withRecovery(log *slog.Logger) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("handler panicked", "path", r.URL.Path, "panic", v)
					http.Error(w, "internal error", http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

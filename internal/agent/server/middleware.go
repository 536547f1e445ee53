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

func withRecord(r *http.Request) (*http.Request, *record) {
	if rec, ok := r.Context().Value(recordKey{}).(*record); ok {
		return r, rec
	}
	rec := &record{}
	return r.WithContext(context.WithValue(r.Context(), recordKey{}, rec)), rec
}

// withLogging logs one line per request in the spirit of aad-pod-identity
// (method, path, remote, status, duration), plus the pod, the identity with
// its client ID redacted and the refusal reason. Tokens are never logged.
func withLogging(log *slog.Logger, now func() time.Time) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			r, rec := withRecord(r)
			sw := httpstatus.Wrap(w)
			next.ServeHTTP(sw, r)
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("remote", r.RemoteAddr), slog.Int("status", sw.Status),
				slog.Duration("duration", now().Sub(start)),
			}
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
			log.LogAttrs(r.Context(), slog.LevelInfo, "request served", attrs...)
		})
	}
}

// withMetrics counts requests by route and status and times them.
func withMetrics(m *Metrics) middleware {
	return func(next http.Handler) http.Handler {
		if m == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			r, rec := withRecord(r)
			sw := httpstatus.Wrap(w)
			next.ServeHTTP(sw, r)
			m.observeRequest(rec.route, sw.Status, time.Since(start))
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

package kvreader

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"
)

// secretName is what Key Vault accepts as a secret name. Anything else is
// refused before a token is even asked for.
var secretName = regexp.MustCompile(`^[0-9A-Za-z-]{1,127}$`)

// handler serves the reader's HTTP API.
type handler struct {
	reader  SecretReader
	log     *slog.Logger
	timeout time.Duration
}

// NewHandler returns the reader's HTTP API:
//
//	GET /secrets/{name} and /secrets/{name}/  the secret's value, text/plain
//	GET /healthz                              "ok"
//
// timeout bounds each read; 0 means only the request's context does.
func NewHandler(r SecretReader, log *slog.Logger, timeout time.Duration) http.Handler {
	h := &handler{reader: r, log: log, timeout: timeout}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /secrets/{name}", h.secret)
	mux.HandleFunc("GET /secrets/{name}/{$}", h.secret)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	return mux
}

func (h *handler) secret(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !secretName.MatchString(name) {
		h.log.Info("refused secret name", "status", http.StatusBadRequest)
		writeText(w, http.StatusBadRequest, "A Key Vault secret name is 1 to 127 letters, digits and dashes.\n")
		return
	}
	ctx := r.Context()
	if h.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	value, err := h.reader.ReadSecret(ctx, name)
	if err != nil {
		status, msg := describe(name, err)
		h.log.Warn("secret read failed", "secret", name, "status", status, "reason", msg)
		writeText(w, status, msg+"\n")
		return
	}
	h.log.Info("secret read", "secret", name, "status", http.StatusOK)
	// The value alone, byte for byte: `wget -qO-` prints exactly this.
	writeText(w, http.StatusOK, value)
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprint(w, body)
}

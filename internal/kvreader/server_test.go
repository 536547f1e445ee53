package kvreader

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeReader answers from a map, or err for every read.
type fakeReader struct {
	values map[string]string
	err    error
}

func (f fakeReader) ReadSecret(_ context.Context, name string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	v, ok := f.values[name]
	if !ok {
		return "", errors.New("unexpected read of " + name)
	}
	return v, nil
}

func TestHandler(t *testing.T) {
	values := map[string]string{"grafana-admin-username-poc": "admin-poc"}
	cases := map[string]struct {
		reader     SecretReader
		path       string
		wantStatus int
		// wantBody is the exact body when wantIn is empty.
		wantBody string
		wantIn   string
	}{
		"the seed's path with a trailing slash answers the value alone": {
			reader: fakeReader{values: values}, path: "/secrets/grafana-admin-username-poc/",
			wantStatus: http.StatusOK, wantBody: "admin-poc",
		},
		"the path without a trailing slash answers it too": {
			reader: fakeReader{values: values}, path: "/secrets/grafana-admin-username-poc",
			wantStatus: http.StatusOK, wantBody: "admin-poc",
		},
		"a name Key Vault would refuse is refused before any read": {
			reader: fakeReader{err: errors.New("must not be read")}, path: "/secrets/a_b",
			wantStatus: http.StatusBadRequest, wantIn: "letters, digits and dashes",
		},
		"no token from IMDS points at the pod's binding label": {
			reader: fakeReader{err: &TokenError{Err: errors.New("ManagedIdentityCredential: no identity assigned")}}, path: "/secrets/s/",
			wantStatus: http.StatusBadGateway, wantIn: "aadpodidbinding",
		},
		"a deadline answers 504": {
			reader: fakeReader{err: context.DeadlineExceeded}, path: "/secrets/s/",
			wantStatus: http.StatusGatewayTimeout, wantIn: "took too long",
		},
		"healthz answers ok": {
			reader: fakeReader{}, path: "/healthz",
			wantStatus: http.StatusOK, wantBody: "ok\n",
		},
		"other paths are not found": {
			reader: fakeReader{}, path: "/secrets/s/versions",
			wantStatus: http.StatusNotFound, wantIn: "not found",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			h := NewHandler(c.reader, slog.New(slog.NewTextHandler(&logs, nil)), 0)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
			if rec.Code != c.wantStatus {
				t.Fatalf("status %d, want %d; body %q", rec.Code, c.wantStatus, rec.Body)
			}
			body := rec.Body.String()
			if c.wantIn == "" && body != c.wantBody {
				t.Fatalf("body %q, want %q", body, c.wantBody)
			}
			if c.wantIn != "" && !strings.Contains(body, c.wantIn) {
				t.Fatalf("body %q lacks %q", body, c.wantIn)
			}
			if strings.Contains(logs.String(), "admin-poc") {
				t.Fatalf("a secret value was logged: %s", logs.String())
			}
		})
	}
}

func TestHandlerLogsNameAndOutcome(t *testing.T) {
	var logs bytes.Buffer
	h := NewHandler(fakeReader{values: map[string]string{"s": "v3ry-s3cret"}}, slog.New(slog.NewTextHandler(&logs, nil)), 0)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/secrets/s/", nil))
	got := logs.String()
	if !strings.Contains(got, "secret=s") || !strings.Contains(got, "status=200") {
		t.Fatalf("log %q lacks the secret name or outcome", got)
	}
	if strings.Contains(got, "v3ry-s3cret") {
		t.Fatalf("log %q holds the value", got)
	}
}

package httpstatus

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriterRecordsTheStatusSent(t *testing.T) {
	cases := map[string]struct {
		handler http.HandlerFunc
		want    int
	}{
		"an explicit status":             {func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }, http.StatusTeapot},
		"a body alone is 200":            {func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("x")) }, http.StatusOK},
		"only the first status counts":   {func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404); w.WriteHeader(500) }, http.StatusNotFound},
		"nothing written leaves it zero": {func(http.ResponseWriter, *http.Request) {}, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := Wrap(rec)
			tc.handler(Wrap(w), httptest.NewRequest(http.MethodGet, "/", nil))
			if w.Status != tc.want {
				t.Errorf("Status = %d, want %d", w.Status, tc.want)
			}
		})
	}
}

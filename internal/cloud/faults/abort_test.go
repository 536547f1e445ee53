package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAbortGivesNoAnswer checks that an Abort rule leaves the client with a
// transport error and no status, over HTTP/1 and HTTP/2 (the embedded
// cloud's clients speak both), that calls outside its Match are answered,
// and that the connection serves again once the rule is removed.
func TestAbortGivesNoAnswer(t *testing.T) {
	cases := map[string]struct {
		// http2 serves over TLS with HTTP/2 enabled, as the cloud does.
		http2     bool
		wantProto string
	}{
		"over HTTP/1 the connection is closed": {false, "HTTP/1.1"},
		"over HTTP/2 the stream is reset":      {true, "HTTP/2.0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := New()
			id, err := in.Add(Rule{Match: `^arm GET /down$`, Abort: true})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(in.Wrap("arm", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "up")
			})))
			srv.EnableHTTP2 = tc.http2
			if tc.http2 {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			c := srv.Client()

			get := func(path string) (*http.Response, error) {
				resp, err := c.Get(srv.URL + path)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				return resp, err
			}
			resp, err := get("/up")
			if err != nil || resp.StatusCode != http.StatusOK || resp.Proto != tc.wantProto {
				t.Fatalf("a call outside the rule: %v %v, want 200 over %s", resp, err, tc.wantProto)
			}
			if resp, err := get("/down"); err == nil {
				t.Fatalf("an aborted call was answered %d", resp.StatusCode)
			} else {
				t.Logf("aborted call: %v", err)
			}
			in.Remove(id)
			if resp, err := get("/down"); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("after the rule went: %v %v, want 200", resp, err)
			}
		})
	}
}

func TestAbortExcludesStatus(t *testing.T) {
	if _, err := New().Add(Rule{Match: "x", Abort: true, Status: 500}); err == nil {
		t.Fatal("a rule that both aborts and answers 500 was accepted")
	}
}

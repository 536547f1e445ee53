package cloud

import (
	"bytes"
	"io"
	"net"
	"testing"
)

func TestRepairRequestLine(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"spaces in an unencoded filter are encoded": {"GET /s/roleAssignments?$filter=principalId eq 'x'&api-version=1 HTTP/1.1\r\n",
			"GET /s/roleAssignments?$filter=principalId%20eq%20'x'&api-version=1 HTTP/1.1\r\n"},
		"a valid request line is untouched": {"PUT /subscriptions/x?api-version=1 HTTP/1.1\r\n", "PUT /subscriptions/x?api-version=1 HTTP/1.1\r\n"},
		"a header line is untouched":        {"Authorization: Bearer a b\r\n", "Authorization: Bearer a b\r\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := string(repairRequestLine([]byte(tc.in))); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLenientConnStream(t *testing.T) {
	client, server := net.Pipe()
	lc := &lenientConn{Conn: server, lineStart: true}
	stream := "GET /a?f=x eq 'y' HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\nGET /b?c d HTTP/1\nPOST /c?x y HTTP/1.1\r\n\r\n"
	want := "GET /a?f=x%20eq%20'y' HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\nGET /b?c d HTTP/1\nPOST /c?x%20y HTTP/1.1\r\n\r\n"
	go func() {
		// Dribble bytes to exercise partial lines.
		for i := 0; i < len(stream); i += 5 {
			_, _ = client.Write([]byte(stream[i:min(i+5, len(stream))]))
		}
		_ = client.Close()
	}()
	got, err := io.ReadAll(lc)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/podid/podid/internal/agent/peer"
	"github.com/podid/podid/internal/agent/server"
)

func TestDecideHostCaller(t *testing.T) {
	const csiUID = "0b5f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c"
	const appUID = "1c6f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c"
	lookup := func(uid string) (server.PodRef, string, bool) {
		switch uid {
		case csiUID:
			return server.PodRef{Namespace: "kube-system", Name: "csi-azure-x"}, "csi-secrets-store-provider-azure", true
		case appUID:
			return server.PodRef{Namespace: "default", Name: "app"}, "default", true
		}
		return server.PodRef{}, "", false
	}
	cases := map[string]struct {
		allow   []string
		process peer.Process
		wantErr string // "" when allowed
	}{
		"the CSI provider's pod, allowed by default": {allow: DefaultHostTokenAllow, process: peer.Process{PID: 7, PodUID: csiUID}},
		"another hostNetwork pod":                    {allow: DefaultHostTokenAllow, process: peer.Process{PID: 8, PodUID: appUID}, wantErr: "add default/default to --host-token-allow"},
		"a pod not on this node":                     {allow: DefaultHostTokenAllow, process: peer.Process{PID: 9, PodUID: "2d6f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c"}, wantErr: "not a live pod of this node"},
		"a node process without node allowed":        {allow: DefaultHostTokenAllow, process: peer.Process{PID: 10}, wantErr: `add "node"`},
		"a root node process with node allowed":      {allow: []string{"node"}, process: peer.Process{PID: 11}},
		"a non-root node process with node allowed":  {allow: []string{"node"}, process: peer.Process{PID: 12, UID: 1000}, wantErr: "only root processes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decideHostCaller(tc.allow, tc.process, lookup)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestHostCallersFindTheCallingProcess calls a server on loopback and lets
// the real kernel lookup find the caller: this test, a node process.
func TestHostCallersFindTheCallingProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the kernel tables exist on Linux only")
	}
	for name, tc := range map[string]struct {
		allow   []string
		allowed bool
	}{
		"node processes allowed": {[]string{"node"}, os.Getuid() == 0},
		"only a pod allowed":     {DefaultHostTokenAllow, false},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHostCallers(tc.allow, func(string) (server.PodRef, string, bool) { return server.PodRef{}, "", false })
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				who, err := h.Allow(r)
				if err != nil {
					http.Error(w, err.Error(), http.StatusForbidden)
					return
				}
				_, _ = w.Write([]byte(who))
			}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := new(strings.Builder)
			_, _ = io.Copy(buf, resp.Body)
			if (resp.StatusCode == 200) != tc.allowed {
				t.Fatalf("status %d %q, want allowed %v", resp.StatusCode, buf, tc.allowed)
			}
			if tc.allowed && !strings.Contains(buf.String(), "node process "+strconv.Itoa(os.Getpid())) {
				t.Fatalf("caller %q, want this process %d", buf, os.Getpid())
			}
		})
	}
	if h := newHostCallers(nil, nil); h != nil {
		t.Fatal("an empty allow list must turn /host/token off")
	}
}

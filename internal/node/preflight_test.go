package node

import (
	"errors"
	"strings"
	"testing"
)

func TestPreflightNamesWhatIsMissingAndTheInstallLine(t *testing.T) {
	cases := map[string]struct {
		euid    int
		have    []string
		wantErr []string // substrings; none means no error
	}{
		"a machine with everything passes": {
			euid: 0, have: []string{"containerd", "containerd-shim-runc-v2", "runc", "iptables", "ip", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"},
		},
		"a fresh machine gets one apt-get line with every package once": {
			euid:    0,
			wantErr: []string{"containerd, containerd-shim-runc-v2, runc", "apt-get install -y containerd runc iptables iproute2 containernetworking-plugins"},
		},
		"a user without root is told so, and no package is proposed for it": {
			euid: 1000, have: []string{"containerd", "containerd-shim-runc-v2", "runc", "iptables", "ip", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"},
			wantErr: []string{"real nodes need root"},
		},
		"a missing CNI plugin names its file and package": {
			euid: 0, have: []string{"containerd", "containerd-shim-runc-v2", "runc", "iptables", "ip", "/usr/lib/cni/bridge", "/usr/lib/cni/loopback"},
			wantErr: []string{"/usr/lib/cni/host-local", "apt-get install -y containernetworking-plugins"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			has := map[string]bool{}
			for _, h := range tc.have {
				has[h] = true
			}
			p := Probe{
				EUID: tc.euid,
				LookPath: func(c string) (string, error) {
					if has[c] {
						return "/usr/bin/" + c, nil
					}
					return "", errors.New("not found")
				},
				Exists: func(f string) bool { return has[f] },
			}
			err := PreflightError(Preflight(p, ""))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error naming %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.euid != 0 && strings.Contains(err.Error(), "apt-get") {
				t.Errorf("root needs no package, got %q", err)
			}
		})
	}
}

package nodelock

import "testing"

func TestHolderRoundTripAndName(t *testing.T) {
	cases := map[string]struct {
		h    Holder
		want string // String()
	}{
		"an agent in a pod": {
			h:    Holder{PID: 4242, PIDNamespace: "pid:[4026531836]", Address: "10.240.0.4:2579", Pod: "kube-system/podid-nmi-x7k2p", PodUID: "0b5f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c"},
			want: "PID 4242, serving 10.240.0.4:2579, pod kube-system/podid-nmi-x7k2p, UID 0b5f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c",
		},
		"an agent on the host": {
			h:    Holder{PID: 77, Address: "10.254.0.1:2579"},
			want: "PID 77, serving 10.254.0.1:2579",
		},
		"a holder that has not written yet": {
			h:    Holder{},
			want: "PID unknown",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := parseHolder(tc.h.marshal())
			if got != tc.h {
				t.Fatalf("parsed %+v, want %+v", got, tc.h)
			}
			if s := got.String(); s != tc.want {
				t.Fatalf("String = %q, want %q", s, tc.want)
			}
		})
	}
}

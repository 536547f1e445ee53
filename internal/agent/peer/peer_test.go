package peer

import (
	"net/netip"
	"strings"
	"testing"
)

func TestPodUIDFromCgroup(t *testing.T) {
	const uid = "0b5f7c2e-3a6d-4c1e-9f2a-7d8e9f0a1b2c"
	cases := map[string]struct {
		cgroup string
		want   string
	}{
		"cgroupfs v1, burstable":           {"12:memory:/kubepods/burstable/pod" + uid + "/8f3e1d\n11:cpu:/kubepods/burstable/pod" + uid + "/8f3e1d", uid},
		"cgroupfs v1, guaranteed":          {"4:pids:/kubepods/pod" + uid + "/c0ffee", uid},
		"systemd driver":                   {"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice/cri-containerd-abc.scope", uid},
		"upper-case hex":                   {"0::/kubepods/pod" + strings.ToUpper(uid) + "/x", uid},
		"a node process":                   {"0::/system.slice/kubelet.service", ""},
		"the root cgroup":                  {"9:name=systemd:/\n8:pids:/", ""},
		"a pod-like name outside kubepods": {"0::/user.slice/pod" + uid, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := PodUIDFromCgroup(tc.cgroup); got != tc.want {
				t.Fatalf("PodUIDFromCgroup = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseProcAddr(t *testing.T) {
	cases := map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"0700407F:A661":                         "127.64.0.7:42593",
		"00000000000000000000000001000000:0050": "[::1]:80",
		"0000000000000000FFFF00000100007F:0A1B": "127.0.0.1:2587",
	}
	for in, want := range cases {
		got, err := parseProcAddr(in)
		if err != nil || got.String() != want {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "zz00007F:0050", "0100007F:zz"} {
		if _, err := parseProcAddr(bad); err == nil {
			t.Errorf("parseProcAddr(%q) accepted", bad)
		}
	}
}

func TestSocketInode(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0A1B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1061 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:0A1B 01 00000000:00000000 00:00000000 00000000    20        0 4242 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:0A1B 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1
`
	client, server := netip.MustParseAddrPort("127.0.0.1:50000"), netip.MustParseAddrPort("127.0.0.1:2587")
	if inode, uid, err := socketInode(strings.NewReader(table), client, server); err != nil || inode != 4242 || uid != 20 {
		t.Fatalf("client socket inode %d, uid %d, %v; want 4242 and 20", inode, uid, err)
	}
	if _, _, err := socketInode(strings.NewReader(table), netip.MustParseAddrPort("127.0.0.1:50001"), server); err == nil {
		t.Fatal("found a socket for a connection that does not exist")
	}
}

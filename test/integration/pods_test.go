package integration

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/testenv"
)

func TestThreeHundredPodsRunWithDistinctIPsInTheirNodesPodCIDR(t *testing.T) {
	const pods = 300
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := env.NewNamespace(t)

	cidrOf := map[string]netip.Prefix{}
	hostIPOf := map[string]string{}
	for _, n := range env.Nodes {
		cidrOf[n.Name] = netip.MustParsePrefix(n.Spec.PodCIDR)
		hostIPOf[n.Name] = n.Status.Addresses[0].Address
	}
	objs := make([]*corev1.Pod, 0, pods)
	for i := 0; i < pods; i++ {
		objs = append(objs, testenv.Pod(testenv.PodSpec{
			Namespace: ns, Name: fmt.Sprintf("p-%03d", i), Node: env.Nodes[i%len(env.Nodes)].Name,
			Labels: map[string]string{"aadpodidbinding": "demo"},
		}))
	}
	start := time.Now()
	if err := env.CreatePods(ctx, objs, 16); err != nil {
		t.Fatal(err)
	}
	created := time.Since(start)
	running, err := env.WaitPodsRunning(ctx, ns, pods, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pods created in %s, all Running with an IP %s after the first create", pods, created.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	owner := map[string]string{}
	for _, p := range running {
		ip, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil {
			t.Fatalf("pod %s has unparsable IP %q", p.Name, p.Status.PodIP)
		}
		if !cidrOf[p.Spec.NodeName].Contains(ip) {
			t.Errorf("pod %s on %s has IP %s outside the node's podCIDR %s", p.Name, p.Spec.NodeName, ip, cidrOf[p.Spec.NodeName])
		}
		if p.Status.HostIP != hostIPOf[p.Spec.NodeName] {
			t.Errorf("pod %s hostIP = %s, want node %s's InternalIP %s", p.Name, p.Status.HostIP, p.Spec.NodeName, hostIPOf[p.Spec.NodeName])
		}
		if other, dup := owner[ip.String()]; dup {
			t.Errorf("pods %s and %s share IP %s", other, p.Name, ip)
		}
		owner[ip.String()] = p.Name
	}
	if len(owner) != pods {
		t.Errorf("%d distinct pod IPs, want %d", len(owner), pods)
	}
}

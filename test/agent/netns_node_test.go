package agent

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// The network-namespace test (netns_test.go) runs this binary again inside
// a node namespace it made; netnsNodeEnv tells TestMain to play the node:
// a cluster whose node has podCIDR netnsPodCIDR and InternalIP netnsNodeIP,
// the cloud, mic, two bound pods, and the real agent managing iptables in
// that namespace only.
const (
	netnsNodeEnv = "PODID_NETNS_NODE"
	netnsNS      = "netns"
)

var (
	netnsPodCIDR = netip.MustParsePrefix("10.251.1.0/24")
	netnsNodeIP  = netip.MustParseAddr("10.251.0.1")
)

// runNetnsNode prints "READY <pod A IP> <pod B IP> <identity object ID>"
// once the agent's rules are in place, then obeys stdin lines: "stop-agent"
// stops the agent (its rules stay), "cleanup" runs the uninstall step; at
// stdin EOF it stops everything.
func runNetnsNode() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nd, err := netnode.StartNode(ctx, testWorld(1), netnsPodCIDR, netnsNodeIP)
	if err != nil {
		return netnode.Fail(err)
	}
	defer nd.Stop()
	s.env, s.cloud = nd.Env, nd.Cloud
	if err := netnode.CreateAgentServiceAccount(ctx, s.env); err != nil {
		return netnode.Fail(err)
	}
	micCtx, micCancel := context.WithCancel(ctx)
	micDone, err := startMIC(micCtx)
	if err != nil {
		micCancel()
		return netnode.Fail(err)
	}
	defer func() { micCancel(); <-micDone }()

	id, ok := s.cloud.IdentityByName(fedIdentity)
	if !ok {
		return netnode.Fail(fmt.Errorf("identity %s missing", fedIdentity))
	}
	if err := s.env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: netnsNS}}); err != nil {
		return netnode.Fail(err)
	}
	if err := s.env.Client.Create(ctx, azureIdentity(netnsNS, "fed", id, "")); err != nil {
		return netnode.Fail(err)
	}
	if err := s.env.Client.Create(ctx, binding(netnsNS, "fed", "fed", "app")); err != nil {
		return netnode.Fail(err)
	}
	var ips []string
	for _, name := range []string{"pod-a", "pod-b"} {
		pod := testenv.Pod(testenv.PodSpec{Namespace: netnsNS, Name: name, Node: s.env.Nodes[0].Name, Labels: map[string]string{podidv1.SelectorLabel: "app"}})
		if err := s.env.Client.Create(ctx, pod); err != nil {
			return netnode.Fail(err)
		}
		var got corev1.Pod
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: netnsNS, Name: name}, &got); err != nil {
				return false, nil
			}
			return got.Status.PodIP != "", nil
		})
		if err != nil {
			return netnode.Fail(fmt.Errorf("pod %s got no IP: %w", name, err))
		}
		ips = append(ips, got.Status.PodIP)
	}

	caFile, err := cloudCAFile()
	if err != nil {
		return netnode.Fail(err)
	}
	agentCtx, agentCancel := context.WithCancel(ctx)
	a, err := startAgent(agentCtx, 0, s.env.Nodes[0], caFile, func(o *agent.Options) {
		o.ManageIPTables = true
		o.LockFile = filepath.Join(s.env.Dir, "nmi.lock") // not the host's /run/podid
		o.PodCIDRs = []string{netnsPodCIDR.String()}
		o.BlockInstanceMetadata = true
		o.ProxyOtherPaths = false
	})
	if err != nil {
		agentCancel()
		return netnode.Fail(err)
	}
	stopAgent := sync.OnceFunc(func() { agentCancel(); a.wait() })
	defer stopAgent()
	if err := a.waitReady(ctx); err != nil {
		return netnode.Fail(fmt.Errorf("%w\n%s", err, a.logTail(30)))
	}
	fmt.Printf("READY %s %s %s\n", ips[0], ips[1], id.PrincipalID)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() { // until the test closes stdin
		switch in.Text() {
		case "stop-agent": // as SIGTERM would: the agent's context ends
			stopAgent()
			fmt.Println("AGENT-STOPPED")
		case "cleanup": // the uninstall step, `podid nmi cleanup`
			if err := agent.Cleanup(nil); err != nil {
				fmt.Println("FAILED", err)
				continue
			}
			fmt.Println("CLEANED")
		}
	}
	return 0
}

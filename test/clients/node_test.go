package clients

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// TestClientMatrix runs this binary again inside a node namespace it made;
// nodeEnv tells TestMain to play the node: a one-node cluster whose node has
// podCIDR podCIDR and InternalIP nodeIP, the cloud, mic, one pod bound to
// the federated identity, and the real agent managing iptables in that
// namespace only.
const (
	nodeEnv = "PODID_CLIENTS_NODE"
	podNS   = "clients"
	podName = "app"
)

var (
	podCIDR = netip.MustParsePrefix("10.252.1.0/24")
	nodeIP  = netip.MustParseAddr("10.252.0.1")
)

// runNode prints "READY <pod IP> <client ID> <object ID> <resource ID>
// <cloud port> <cloud CA file>" once
// the pod's identity is assigned and the agent's rules are in place, then
// waits for stdin to close and stops everything. The agent's log goes to
// the file named by the PODID_CLIENTS_AGENT_LOG variable.
func runNode() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nd, err := netnode.StartNode(ctx, world, podCIDR, nodeIP)
	if err != nil {
		return netnode.Fail(err)
	}
	defer nd.Stop()
	env, c, caFile := nd.Env, nd.Cloud, nd.CAFile
	if err := netnode.CreateAgentServiceAccount(ctx, env); err != nil {
		return netnode.Fail(err)
	}
	micCtx, micCancel := context.WithCancel(ctx)
	micDone, err := netnode.StartMIC(micCtx, env, c, tenantID, caFile)
	if err != nil {
		micCancel()
		return netnode.Fail(err)
	}
	defer func() { micCancel(); <-micDone }()

	id, ok := c.IdentityByName(fedIdentity)
	if !ok {
		return netnode.Fail(fmt.Errorf("identity %s missing", fedIdentity))
	}
	podIP, err := bindPod(ctx, env, id)
	if err != nil {
		return netnode.Fail(err)
	}

	agentCtx, agentCancel := context.WithCancel(ctx)
	defer agentCancel()
	agentDone, err := startAgent(agentCtx, env, c, caFile)
	if err != nil {
		return netnode.Fail(err)
	}
	defer func() { agentCancel(); <-agentDone }()
	// az CLI in the pod reaches Resource Manager through a TCP forwarder on
	// the node's address; the cloud itself listens on the node's loopback.
	armPort, err := forwardCloud(ctx, c)
	if err != nil {
		return netnode.Fail(err)
	}
	fmt.Printf("READY %s %s %s %s %d %s\n", podIP, id.ClientID, id.PrincipalID, id.ID, armPort, caFile)
	_, _ = os.Stdin.Read(make([]byte, 1)) // until the test closes stdin
	return 0
}

// bindPod creates the namespace, the AzureIdentity, its binding and the
// pod, and waits until the pod runs with an IP and its identity is
// Assigned.
func bindPod(ctx context.Context, env *testenv.Env, id cloud.Identity) (string, error) {
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: podNS}},
		&podidv1.AzureIdentity{
			ObjectMeta: metav1.ObjectMeta{Namespace: podNS, Name: "fed"},
			Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: id.ClientID, ResourceID: id.ID},
		},
		&podidv1.AzureIdentityBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: podNS, Name: "fed"},
			Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: "fed", Selector: podName},
		},
		testenv.Pod(testenv.PodSpec{Namespace: podNS, Name: podName, Node: env.Nodes[0].Name,
			Labels: map[string]string{podidv1.SelectorLabel: podName}}),
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			return "", fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	var podIP string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var pod corev1.Pod
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: podNS, Name: podName}, &pod); err != nil {
			return false, nil
		}
		podIP = pod.Status.PodIP
		if podIP == "" {
			return false, nil
		}
		var list podidv1.AzureAssignedIdentityList
		if err := env.Client.List(ctx, &list, client.InNamespace(podNS)); err != nil {
			return false, nil
		}
		for _, a := range list.Items {
			if a.Spec.Pod == podName && a.Status.Status == podidv1.AssignedIDAssigned {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("pod %s/%s not running with its identity assigned: %w", podNS, podName, err)
	}
	return podIP, nil
}

// startAgent runs the agent on the node's address, managing iptables in
// the node namespace, and waits until it is ready.
func startAgent(ctx context.Context, env *testenv.Env, c *cloud.Cloud, caFile string) (<-chan error, error) {
	n := env.Nodes[0]
	var imdsURL string
	for _, in := range c.Instances() {
		imdsURL = in.IMDSURL
	}
	if imdsURL == "" {
		return nil, errors.New("the cloud has no instance IMDS listener")
	}
	port, err := netnode.FreePort(nodeIP.String())
	if err != nil {
		return nil, err
	}
	probePort, err := netnode.FreePort(nodeIP.String())
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(nodeIP.String(), strconv.Itoa(port))
	probeAddr := net.JoinHostPort(nodeIP.String(), strconv.Itoa(probePort))
	opts := agent.NewOptions()
	opts.NodeName = n.Name
	opts.NodeIP = nodeIP.String()
	opts.ListenAddress = addr
	opts.ProbeAddress = probeAddr
	opts.MetricsAddress = ""
	opts.NodeIMDSURL = imdsURL
	opts.BlockInstanceMetadata = true
	opts.ProxyOtherPaths = false
	opts.NewPodGrace = 0
	// The pod's one assignment is Assigned before the agent starts, so a
	// request naming another identity is refused at once instead of after
	// the default wait.
	opts.AssignmentWait = 0
	opts.AuthorityHost = c.AuthorityURL()
	opts.AuthorityCAFile = caFile
	opts.TenantID = tenantID
	opts.ServiceAccountNamespace = netnode.AgentNamespace
	opts.ServiceAccountName = netnode.AgentServiceAccount
	opts.ManageIPTables = true
	opts.LockFile = filepath.Join(env.Dir, "nmi.lock") // not the host's /run/podid
	opts.PodCIDRs = []string{podCIDR.String()}
	logFile := os.Getenv("PODID_CLIENTS_AGENT_LOG")
	if logFile == "" {
		logFile = filepath.Join(env.Dir, "agent.log")
	}
	f, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("create agent log: %w", err)
	}
	log := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", n.Name)
	done := make(chan error, 1)
	go func() {
		defer func() { _ = f.Close() }()
		done <- agent.Run(ctx, env.Config, opts, log)
	}()
	hc := &http.Client{Timeout: time.Second}
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-done:
			done <- err
			return false, fmt.Errorf("agent stopped: %w", err)
		default:
		}
		resp, err := hc.Get("http://" + probeAddr + "/readyz")
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return done, fmt.Errorf("wait for the agent: %w", err)
	}
	return done, nil
}

// forwardCloud listens on a free port of the node's address and relays each
// connection, TLS and all, to the cloud's HTTPS listener on loopback; it
// stops when ctx ends. The cloud's certificate names "localhost", which is
// what the pod's hosts file maps to the node's address.
func forwardCloud(ctx context.Context, c *cloud.Cloud) (int, error) {
	u, err := url.Parse(c.URL())
	if err != nil {
		return 0, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(nodeIP.String(), "0"))
	if err != nil {
		return 0, fmt.Errorf("listen for the cloud forwarder: %w", err)
	}
	go func() { <-ctx.Done(); _ = ln.Close() }()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = in.Close() }()
				out, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
				if err != nil {
					return
				}
				defer func() { _ = out.Close() }()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
				go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
				select {
				case <-done:
				case <-ctx.Done():
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/testenv/netnode"
)

// nodeAgent is one in-process nmi.
type nodeAgent struct {
	node string
	// ip is the node's InternalIP; the agent listens there.
	ip string
	// addr is the token server's host:port, where a pod's traffic for
	// 169.254.169.254:80 is sent.
	addr string
	// imdsURL is the node's scale-set instance IMDS.
	imdsURL string
	// probeAddr serves /readyz.
	probeAddr string
	logFile   string
	done      chan error
}

// startAgents runs one agent per node and waits until each is ready.
func startAgents(ctx context.Context) (map[string]*nodeAgent, error) {
	caFile, err := cloudCAFile()
	if err != nil {
		return nil, err
	}
	out := map[string]*nodeAgent{}
	for i, n := range s.env.Nodes {
		a, err := startAgent(ctx, i, n, caFile)
		if err != nil {
			return out, err
		}
		out[n.Name] = a
	}
	for _, a := range out {
		if err := a.waitReady(ctx); err != nil {
			return out, err
		}
	}
	return out, nil
}

func startAgent(ctx context.Context, i int, n *corev1.Node, caFile string, mods ...func(*agent.Options)) (*nodeAgent, error) {
	a := &nodeAgent{node: n.Name, ip: internalIP(n), done: make(chan error, 1)}
	if a.ip == "" {
		return nil, fmt.Errorf("node %s has no InternalIP", n.Name)
	}
	var err error
	if a.imdsURL, err = netnode.InstanceIMDS(s.cloud, i); err != nil {
		return nil, err
	}
	port, err := netnode.FreePort(a.ip)
	if err != nil {
		return nil, err
	}
	probePort, err := netnode.FreePort(a.ip)
	if err != nil {
		return nil, err
	}
	a.addr = net.JoinHostPort(a.ip, strconv.Itoa(port))
	opts := agent.NewOptions()
	opts.NodeName = n.Name
	opts.NodeIP = a.ip
	opts.ListenAddress = a.addr
	a.probeAddr = net.JoinHostPort(a.ip, strconv.Itoa(probePort))
	opts.ProbeAddress = a.probeAddr
	opts.MetricsAddress = ""
	opts.NodeIMDSURL = a.imdsURL
	// Known pods may reach the node's IMDS for other paths, so the refusal
	// tests show that unknown callers cannot.
	opts.BlockInstanceMetadata = false
	opts.ProxyOtherPaths = true
	opts.HostTokenAllow = []string{"node"} // the tests call /host/token as root node processes
	// No grace for new pods: an unbound pod gets the final 400 at once
	// rather than 503s while mic might still catch up.
	opts.NewPodGrace = 0
	opts.AuthorityHost = s.cloud.AuthorityURL()
	opts.AuthorityCAFile = caFile
	opts.TenantID = tenantID
	opts.ServiceAccountNamespace = agentNamespace
	opts.ServiceAccountName = agentServiceAccount
	opts.ManageIPTables = false
	// kwok runs no kubelet: tests write workload-identity pods' projected
	// tokens where a kubelet with this root would (kubeletDir).
	opts.KubeletDir = kubeletDir(n.Name)
	for _, m := range mods {
		m(opts)
	}
	a.logFile = filepath.Join(s.env.Dir, "agent-"+n.Name+".log")
	f, err := os.Create(a.logFile)
	if err != nil {
		return nil, fmt.Errorf("create agent log: %w", err)
	}
	log := slog.New(slog.NewTextHandler(f, nil)).With("node", n.Name)
	go func() {
		defer func() { _ = f.Close() }()
		a.done <- agent.Run(ctx, s.env.Config, opts, log)
	}()
	return a, nil
}

// waitReady polls /readyz, then the token port.
func (a *nodeAgent) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-a.done:
			return false, fmt.Errorf("agent of %s stopped: %w", a.node, err)
		default:
		}
		resp, err := client.Get("http://" + a.probeAddr + "/readyz")
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, nil
		}
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", a.addr)
		if err != nil {
			return false, nil
		}
		_ = c.Close()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("wait for the agent of %s (log %s): %w", a.node, a.logFile, err)
	}
	return nil
}

// wait blocks until the agent has stopped.
func (a *nodeAgent) wait() {
	if err := <-a.done; err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "agent of %s: %v\n", a.node, err)
	}
}

// logTail returns the last n lines of the agent's log.
func (a *nodeAgent) logTail(n int) string {
	b, err := os.ReadFile(a.logFile)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

func internalIP(n *corev1.Node) string {
	for _, ad := range n.Status.Addresses {
		if ad.Type == corev1.NodeInternalIP {
			return ad.Address
		}
	}
	return ""
}

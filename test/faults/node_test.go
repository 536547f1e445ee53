package faults

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// The node side runs in the node namespace (this test binary re-executed
// under "ip netns exec" with nodeEnv set): the cluster, whose one node has
// podCIDR nodePodCIDR and InternalIP nodeIP, the cloud, mic, one bound pod,
// and the real agent managing iptables in that namespace only. The agent
// listens on the same fixed addresses whichever way it runs, so every
// agent serves the rules its predecessors left.
const (
	nodeEnv   = "PODID_FAULTS_NODE"
	podidEnv  = "PODID_FAULTS_PODID" // path of the podid binary
	appNS     = "faults"
	agentPort = "2579"
	probePort = "8085"
	// restartPause is how long no agent runs between a stop and the next
	// start, as between a terminated pod and its replacement.
	restartPause = time.Second
)

var (
	nodePodCIDR = netip.MustParsePrefix("10.252.1.0/24")
	nodeIP      = netip.MustParseAddr("10.252.0.1")
)

// node is the node side's state.
type node struct {
	env      *testenv.Env
	cloud    *cloud.Cloud
	caFile   string
	imdsURL  string
	podidBin string
	logDir   string
	// Exactly one of these runs at a time, or none.
	inproc *inprocAgent
	child  *childAgent
	seq    int
}

type childAgent struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

type inprocAgent struct {
	cancel context.CancelFunc
	done   chan error
}

// runNode prints "READY <pod IP>" once the first agent serves, then obeys
// stdin lines, answering each with "STOPPED <unix ns>" when the agent is
// down and "SERVING <unix ns>" once its successor is ready (or "FAILED"):
//
//	cancel        end the in-process agent's context, as its SIGTERM
//	              handler does, and start a new in-process agent.Run;
//	to-process    end the in-process agent and start `podid nmi`;
//	sigterm       SIGTERM `podid nmi` and start another;
//	sigkill       SIGKILL `podid nmi` and start another;
//	cleanup       stop the agent and run agent.Cleanup ("CLEANED").
//
// At stdin EOF it stops everything.
func runNode() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := &node{podidBin: os.Getenv(podidEnv)}
	nd, err := netnode.StartNode(ctx, world, nodePodCIDR, nodeIP)
	if err != nil {
		return netnode.Fail(err)
	}
	defer nd.Stop()
	n.env, n.cloud, n.caFile = nd.Env, nd.Cloud, nd.CAFile
	n.logDir = n.env.Dir
	if n.imdsURL, err = netnode.InstanceIMDS(n.cloud, 0); err != nil {
		return netnode.Fail(err)
	}
	micCtx, micCancel := context.WithCancel(ctx)
	micWait, err := n.startMIC(micCtx)
	if err != nil {
		micCancel()
		return netnode.Fail(err)
	}
	defer func() { micCancel(); _ = micWait() }()
	podIP, err := n.createWorkload(ctx)
	if err != nil {
		return netnode.Fail(err)
	}
	defer n.stop(syscall.SIGTERM)
	if err := n.startInproc(ctx); err != nil {
		return netnode.Fail(err)
	}
	fmt.Println("READY", podIP)

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd := in.Text()
		// Commands other tests add (nodeCommands, outage_node_test.go).
		if f := strings.Fields(cmd); len(f) > 0 && nodeCommands[f[0]] != nil {
			nodeCommands[f[0]](n, ctx, f[1:])
			continue
		}
		if cmd == "cleanup" {
			n.stop(syscall.SIGTERM)
			if err := agent.Cleanup(nil); err != nil {
				fmt.Println("FAILED", err)
				continue
			}
			fmt.Println("CLEANED")
			continue
		}
		sig, start := syscall.SIGTERM, n.startChild
		switch cmd {
		case "cancel":
			start = n.startInproc
		case "to-process":
		case "sigterm":
		case "sigkill":
			sig = syscall.SIGKILL
		default:
			fmt.Println("FAILED unknown command", cmd)
			continue
		}
		n.stop(sig)
		fmt.Println("STOPPED", time.Now().UnixNano())
		if cmd != "to-process" {
			time.Sleep(restartPause)
		}
		if err := start(ctx); err != nil {
			fmt.Println("FAILED", err)
			continue
		}
		fmt.Println("SERVING", time.Now().UnixNano())
	}
	return 0
}

func (n *node) startMIC(ctx context.Context) (func() error, error) {
	opts, err := netnode.MICOptions(n.env, n.cloud, tenantID, n.caFile)
	if err != nil {
		return nil, err
	}
	return n.env.RunMIC(ctx, opts)
}

// createWorkload makes the agent's service account and a pod bound to the
// federated identity, and returns the pod's IP.
func (n *node) createWorkload(ctx context.Context) (string, error) {
	c := n.env.Client
	id, ok := n.cloud.IdentityByName(fedIdentity)
	if !ok {
		return "", fmt.Errorf("identity %s missing", fedIdentity)
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: netnode.AgentNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: netnode.AgentNamespace, Name: netnode.AgentServiceAccount}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNS}},
		&podidv1.AzureIdentity{
			ObjectMeta: metav1.ObjectMeta{Namespace: appNS, Name: "fed"},
			Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: id.ClientID, ResourceID: id.ID},
		},
		&podidv1.AzureIdentityBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: appNS, Name: "fed"},
			Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: "fed", Selector: "app"},
		},
		testenv.Pod(testenv.PodSpec{Namespace: appNS, Name: "app", Node: n.env.Nodes[0].Name,
			Labels: map[string]string{podidv1.SelectorLabel: "app"}}),
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return "", fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	var pod corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: appNS, Name: "app"}, &pod); err != nil {
			return false, nil
		}
		return pod.Status.PodIP != "", nil
	})
	if err != nil {
		return "", fmt.Errorf("pod got no IP: %w", err)
	}
	return pod.Status.PodIP, nil
}

// options are the agent's options, the same for every agent.
func (n *node) options() *agent.Options {
	o := agent.NewOptions()
	o.NodeName = n.env.Nodes[0].Name
	o.NodeIP = nodeIP.String()
	o.ListenAddress = net.JoinHostPort(nodeIP.String(), agentPort)
	o.ProbeAddress = net.JoinHostPort(nodeIP.String(), probePort)
	o.MetricsAddress = ""
	o.NodeIMDSURL = n.imdsURL
	o.BlockInstanceMetadata = true
	o.ProxyOtherPaths = false
	o.AuthorityHost = n.cloud.AuthorityURL()
	o.AuthorityCAFile = n.caFile
	o.TenantID = tenantID
	o.ServiceAccountNamespace = netnode.AgentNamespace
	o.ServiceAccountName = netnode.AgentServiceAccount
	o.ManageIPTables = true
	// The test's own node lock, not the host's /run/podid: an agent killed
	// here must leave nothing on the machine.
	o.LockFile = filepath.Join(n.logDir, "nmi.lock")
	o.PodCIDRs = []string{nodePodCIDR.String()}
	return o
}

// args are the `podid nmi` arguments for the same options, as
// internal/plan.AgentArgs writes them (but managing iptables).
func (n *node) args() []string {
	o := n.options()
	return []string{
		"nmi",
		"--kubeconfig=" + n.env.ControlPlane.Kubeconfig,
		"--node-name=" + o.NodeName,
		"--node-ip=" + o.NodeIP,
		"--listen-address=" + o.ListenAddress,
		"--probe-address=" + o.ProbeAddress,
		"--metrics-address=",
		"--node-imds-url=" + o.NodeIMDSURL,
		"--block-instance-metadata=true",
		"--proxy-other-paths=false",
		"--token-mode=federated",
		"--authority-host=" + o.AuthorityHost,
		"--authority-ca-file=" + o.AuthorityCAFile,
		"--tenant-id=" + o.TenantID,
		"--service-account-namespace=" + o.ServiceAccountNamespace,
		"--service-account-name=" + o.ServiceAccountName,
		"--manage-iptables=true",
		"--lock-file=" + o.LockFile,
		"--pod-cidr=" + nodePodCIDR.String(),
	}
}

func (n *node) logFile() (*os.File, error) {
	n.seq++
	return os.Create(filepath.Join(n.logDir, fmt.Sprintf("agent-%d.log", n.seq)))
}

// startInproc runs agent.Run in this process and waits until it is ready.
func (n *node) startInproc(ctx context.Context) error {
	f, err := n.logFile()
	if err != nil {
		return err
	}
	actx, cancel := context.WithCancel(ctx)
	a := &inprocAgent{cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(f, nil))
	go func() {
		defer func() { _ = f.Close() }()
		a.done <- agent.Run(actx, n.env.Config, n.options(), log)
	}()
	n.inproc = a
	return waitReady(ctx, func() error {
		select {
		case err := <-a.done:
			a.done <- err
			return fmt.Errorf("agent stopped: %w (log %s)", err, f.Name())
		default:
			return nil
		}
	})
}

// startChild runs `podid nmi` and waits until it is ready.
func (n *node) startChild(ctx context.Context) error {
	if n.podidBin == "" {
		return errors.New("no podid binary")
	}
	f, err := n.logFile()
	if err != nil {
		return err
	}
	cmd := exec.Command(n.podidBin, n.args()...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start podid nmi: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(exited) }()
	n.child = &childAgent{cmd: cmd, exited: exited}
	return waitReady(ctx, func() error {
		select {
		case <-exited:
			return fmt.Errorf("podid nmi exited: %v (log %s)", cmd.ProcessState, f.Name())
		default:
			return nil
		}
	})
}

// stop ends whichever agent runs: the in-process one by cancelling its
// context, the child with sig; it returns once the agent is gone.
func (n *node) stop(sig syscall.Signal) {
	if a := n.inproc; a != nil {
		a.cancel()
		<-a.done
		n.inproc = nil
	}
	if c := n.child; c != nil {
		_ = c.cmd.Process.Signal(sig)
		<-c.exited
		n.child = nil
	}
}

// waitReady polls the agent's /readyz, then its token port; alive reports
// an agent that died meanwhile.
func waitReady(ctx context.Context, alive func() error) error {
	hc := &http.Client{Timeout: time.Second}
	probe := "http://" + net.JoinHostPort(nodeIP.String(), probePort) + "/readyz"
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := alive(); err != nil {
			return false, err
		}
		resp, err := hc.Get(probe)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, nil
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(nodeIP.String(), agentPort), time.Second)
		if err != nil {
			return false, nil
		}
		_ = c.Close()
		return true, nil
	})
}

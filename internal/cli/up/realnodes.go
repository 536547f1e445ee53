package up

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent"
	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/node"
	"github.com/podid/podid/internal/plan"
)

// kubeletPort is the kubelet API's port on each real node's own address.
const kubeletPort = 10250

// startRealNodes starts containerd and a kubelet per real node. Waiting
// for them to be Ready is waitReady's.
func (r *runner) startRealNodes(ctx context.Context) error {
	// Validate has refused bad mappings already.
	extra, err := node.ParseRegistries(r.nodeRegistries)
	if err != nil {
		return fmt.Errorf("start real nodes: --node-registry: %w", err)
	}
	sp, err := r.kubeletServicePrincipal()
	if err != nil {
		return err
	}
	for _, n := range r.p.RealNodes {
		healthz, err := controlplane.FreePort()
		if err != nil {
			return err
		}
		r.log.Info("starting real node", "node", n.Name, "ip", n.InternalIP, "folder", n.Real.Dir)
		rn, err := node.Start(ctx, node.Options{
			Config: node.Config{
				Layout: *n.Real, Name: n.Name, ProviderID: n.ProviderID,
				SandboxImage: plan.SandboxImage(),
				Registries:   append(node.Mirrors("http://"+r.images.Addr, r.images.Hosts()), extra...),
				KubeletPort:  kubeletPort, HealthzPort: healthz,
				ClientCAFile: r.cp.CAFile,
				ClusterDNS:   r.p.RealNodes[0].InternalIP,
				Labels:       map[string]string{"podid.dev/node-kind": "real"},
				Taints:       r.realNodeTaints(),
				ACR:          withServicePrincipal(r.nodeACR(n), sp),
			},
			KubeletBin:      filepath.Join(r.bin, "kubelet"),
			WriteKubeconfig: r.cp.NodeKubeconfig,
			Logger:          r.log,
		})
		if err != nil {
			return fmt.Errorf("start real node %s: %w", n.Name, err)
		}
		r.realNodes = append(r.realNodes, rn)
		r.children = append(r.children, rn.Processes()...)
	}
	return nil
}

// realNodeTaints are the taints real nodes register with: when podid up
// runs the node agents, v1.AgentNotReadyTaint, which each agent removes
// once its rules are in place, so that no pod runs on a node before its
// agent did. With the chart, the user's install order decides (and pods of
// another pod-identity system may already run there), so none.
func (r *runner) realNodeTaints() []corev1.Taint {
	if r.p.Chart != nil {
		return nil
	}
	return []corev1.Taint{{Key: podidv1.AgentNotReadyTaint, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
}

// realNodesUntainted fails while a real node still has the agent-not-ready
// taint, naming the agent's log.
func (r *runner) realNodesUntainted(ctx context.Context) error {
	for _, n := range r.p.RealNodes {
		node, err := r.kube.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read node %s: %w", n.Name, err)
		}
		for _, t := range node.Spec.Taints {
			if t.Key == podidv1.AgentNotReadyTaint {
				return fmt.Errorf("node %s still has the taint; its agent is not ready yet (see %s)", n.Name, n.AgentLog)
			}
		}
	}
	return nil
}

// stopRealNodes tears the real nodes down, last first.
func (r *runner) stopRealNodes() {
	for i := len(r.realNodes) - 1; i >= 0; i-- {
		r.realNodes[i].Stop()
	}
	r.realNodes = nil
}

// removeAgentRules is the uninstall of the agents' iptables rules, run
// once the agents have stopped: podid down removes the system it installed.
func (r *runner) removeAgentRules() {
	if err := agent.Cleanup(r.log); err != nil {
		r.log.Error("removing the node agents' iptables rules failed; run podid nmi cleanup", "error", err)
	}
}

// cleanRealNodes removes what real nodes of an earlier run that did not
// stop cleanly left (processes, mounts, bridges, cgroups), before the run
// folder holding their state is emptied.
func cleanRealNodes(p *plan.Plan, log *slog.Logger) error {
	_, err := node.CleanupAll(context.Background(), p.RunDir, log)
	return err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

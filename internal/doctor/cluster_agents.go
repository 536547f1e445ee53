package doctor

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// maxPodsNamed bounds how many pods a finding lists as evidence.
const maxPodsNamed = 5

// checkNodeAgents reports each node that runs a pod in scope and whose
// agent did not answer ready: such a pod's token requests fail or hang.
// Pods on the host network are excepted: agents serve them no identity.
func checkNodeAgents(f *Facts) []Finding {
	if f.Agents == nil {
		return []Finding{{Status: Skip, Message: "The node agents were not probed (--agent-port 0)."}}
	}
	nodes, hostNet := podsByNode(f)
	var out []Finding
	for _, p := range hostNet {
		if f.Scope.Pod != "" {
			out = append(out, Finding{Status: Skip, Object: Object("Pod", p.Namespace, p.Name),
				Message: "The pod uses the host network: node agents serve it no identity, so its node's agent is not checked."})
		}
	}
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	ready := 0
	for _, node := range names {
		pods := nodes[node]
		a, probed := f.Agents[node]
		obj := Object("Node", "", node)
		evidence := []string{podsEvidence(pods)}
		switch {
		case !probed:
			out = append(out, Finding{Status: Warn, Object: obj,
				Message:  fmt.Sprintf("The agent of node %s was not probed: the node has no InternalIP (or podid up no agent address) to reach it at.", node),
				Evidence: evidence,
				Fix:      fmt.Sprintf("kubectl get node %s -o jsonpath='{.status.addresses}'", node)})
		case !a.Reachable:
			out = append(out, Finding{Status: Fail, Object: obj,
				Message:  fmt.Sprintf("No node agent answered on node %s at %s: its pods' token requests to 169.254.169.254 fail.", node, a.Address),
				Evidence: append(evidence, "probe GET http://"+a.Address+"/readyz: "+a.Detail),
				Fix:      agentFix(f, node)})
		case !a.Ready:
			out = append(out, Finding{Status: Fail, Object: obj,
				Message:  fmt.Sprintf("The node agent on node %s answers but is not ready: its pods get 503 until it is.", node),
				Evidence: append(evidence, "probe GET http://"+a.Address+"/readyz: "+a.Detail),
				Fix:      agentFix(f, node)})
		default:
			ready++
		}
	}
	if ready > 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("The node agents of %d %s running pods in scope answered ready.", ready, plural(ready, "node", "nodes"))})
	}
	return out
}

// podsByNode groups the running or pending pods in scope by node; pods on
// the host network come apart.
func podsByNode(f *Facts) (map[string][]*corev1.Pod, []*corev1.Pod) {
	nodes := map[string][]*corev1.Pod{}
	var hostNet []*corev1.Pod
	for i := range f.Pods {
		p := &f.Pods[i]
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || !f.PodInScope(p) {
			continue
		}
		if p.Spec.HostNetwork {
			hostNet = append(hostNet, p)
			continue
		}
		nodes[p.Spec.NodeName] = append(nodes[p.Spec.NodeName], p)
	}
	return nodes, hostNet
}

func podsEvidence(pods []*corev1.Pod) string {
	names := make([]string, 0, maxPodsNamed)
	for _, p := range pods {
		if len(names) == maxPodsNamed {
			break
		}
		names = append(names, key(p.Namespace, p.Name))
	}
	s := fmt.Sprintf("%d %s in scope on the node: %s", len(pods), plural(len(pods), "pod", "pods"), strings.Join(names, ", "))
	if len(pods) > maxPodsNamed {
		s += ", …"
	}
	return s
}

// agentFix points at what runs node's agent: podid up's process log, or
// the agent pods of the node-agent DaemonSet on that node.
func agentFix(f *Facts, node string) string {
	if f.Supervised != nil {
		if p, ok := f.Supervised.Agents[node]; ok {
			if !p.Alive {
				return fmt.Sprintf("podid down --state-dir %s && podid up --state-dir %[1]s", f.Supervised.StateDir)
			}
			return "tail -n 50 " + p.Log
		}
	}
	for _, c := range f.Components {
		if c.Kind == NodeAgent {
			ns := objectNamespace(c.Object)
			return fmt.Sprintf("kubectl -n %s get pods -o wide --field-selector spec.nodeName=%s", ns, node)
		}
	}
	return "Install podid's node agent (podid nmi) as a DaemonSet on every node."
}

// objectNamespace is the namespace of an Object string "Kind ns/name".
func objectNamespace(obj string) string {
	_, nsName, _ := strings.Cut(obj, " ")
	ns, _, _ := strings.Cut(nsName, "/")
	return ns
}

// objectName is the name of an Object string "Kind ns/name".
func objectName(obj string) string {
	_, nsName, _ := strings.Cut(obj, " ")
	_, name, _ := strings.Cut(nsName, "/")
	return name
}

// objectKind is the kind of an Object string "Kind ns/name".
func objectKind(obj string) string {
	kind, _, _ := strings.Cut(obj, " ")
	return kind
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

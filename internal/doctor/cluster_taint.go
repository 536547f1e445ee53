package doctor

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// checkAgentTaint reports nodes that still carry the agent-not-ready
// taint: their agent has not become ready since the node joined (it
// removes the taint once its rules are in place and it serves), so pods
// that do not tolerate the taint stay Pending there, and says which pods
// in scope wait for it.
func checkAgentTaint(f *Facts) []Finding {
	// A Pending pod does not say which node it wanted, so every tainted
	// node lists the pods the taint keeps Pending.
	var pending []string
	for _, p := range f.Pods {
		if p.Spec.NodeName == "" && unschedulableByAgentTaint(&p) {
			pending = append(pending, p.Namespace+"/"+p.Name)
		}
	}
	var out []Finding
	for _, n := range f.Nodes {
		if !hasTaint(n.Spec.Taints, podidv1.AgentNotReadyTaint) {
			continue
		}
		evidence := []string{fmt.Sprintf("node %s: taint %s", n.Name, podidv1.AgentNotReadyTaint)}
		if len(pending) > 0 {
			evidence = append(evidence, "Pending for it: "+strings.Join(firstN(pending, maxPodsNamed), ", "))
		}
		out = append(out, Finding{Status: Fail, Object: Object("Node", "", n.Name),
			Message: fmt.Sprintf("Node %s still has the %s taint: podid's node agent there has not become ready since the node joined (it removes the taint once its rules are in place and it serves), so pods that do not tolerate the taint stay Pending on it.",
				n.Name, podidv1.AgentNotReadyTaint),
			Evidence: evidence,
			Fix:      agentFix(f, n.Name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	if len(out) == 0 && len(f.Nodes) > 0 {
		return []Finding{{Status: Pass, Message: fmt.Sprintf("No node has the %s taint: every node's agent became ready at least once.", podidv1.AgentNotReadyTaint)}}
	}
	return out
}

func hasTaint(taints []corev1.Taint, key string) bool {
	for _, t := range taints {
		if t.Key == key {
			return true
		}
	}
	return false
}

// unschedulableByAgentTaint reports whether the scheduler's reason for not
// placing p names the agent-not-ready taint.
func unschedulableByAgentTaint(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && strings.Contains(c.Message, podidv1.AgentNotReadyTaint) {
			return true
		}
	}
	return false
}

func firstN(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(append([]string(nil), list[:n]...), fmt.Sprintf("and %d more", len(list)-n))
}

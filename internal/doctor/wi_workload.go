package doctor

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/wi"
)

// The webhook acts only when a pod is created, so a workload-identity fix
// is made in what creates the pods: the Deployment's template, not the
// running pod. A workload gathers its pods into one finding.

// owner is what creates a pod, as kubectl names it; the zero owner is
// none (a bare pod).
type owner struct {
	// kind is the object's Kind ("Deployment"), resource kubectl's word
	// for it ("deployment").
	kind, resource, name string
}

// ownerOf is p's controller. A ReplicaSet whose name is a Deployment's
// plus the pod-template-hash is that Deployment's: the template to change
// is the Deployment's.
func ownerOf(p *corev1.Pod) owner {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return owner{}
	}
	if ref.Kind == "ReplicaSet" {
		if h := p.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(ref.Name, "-"+h) {
			return owner{kind: "Deployment", resource: "deployment", name: strings.TrimSuffix(ref.Name, "-"+h)}
		}
	}
	return owner{kind: ref.Kind, resource: strings.ToLower(ref.Kind), name: ref.Name}
}

// workloadPods are the pods of one workload (or one bare pod) in scope.
type workloadPods struct {
	owner owner
	pods  []*corev1.Pod
}

// object names the workload for a finding.
func (w workloadPods) object() string {
	p := w.pods[0]
	if w.owner.name == "" {
		return Object("Pod", p.Namespace, p.Name)
	}
	return Object(w.owner.kind, p.Namespace, w.owner.name)
}

// podNames lists the pods, for evidence.
func (w workloadPods) podNames() string {
	names := make([]string, len(w.pods))
	for i, p := range w.pods {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// byWorkload groups the running pods in scope that keep(p) by workload,
// in the order of their first pod.
func byWorkload(f *Facts, keep func(p *corev1.Pod) bool) []workloadPods {
	var out []workloadPods
	index := map[string]int{}
	for i := range f.Pods {
		p := &f.Pods[i]
		if !wiRunning(p) || !f.PodInScope(p) || !keep(p) {
			continue
		}
		o := ownerOf(p)
		k := p.Namespace + "/" + o.kind + "/" + o.name
		if o.name == "" {
			k = p.Namespace + "/Pod/" + p.Name
		}
		if j, ok := index[k]; ok {
			out[j].pods = append(out[j].pods, p)
			continue
		}
		index[k] = len(out)
		out = append(out, workloadPods{owner: o, pods: []*corev1.Pod{p}})
	}
	return out
}

// templated reports whether kubectl can patch the owner's pod template
// and roll its pods.
func (o owner) templated() bool {
	switch o.resource {
	case "deployment", "statefulset", "daemonset":
		return true
	}
	return false
}

// addLabelCmd puts the label on the workload's pod template, which rolls
// its pods through the webhook; a bare pod is recreated with it.
func addLabelCmd(w workloadPods) string {
	p := w.pods[0]
	if w.owner.templated() {
		patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": map[string]string{wi.UseLabel: "true"}}}}}) // maps of strings always marshal
		return fmt.Sprintf("kubectl -n %s patch %s %s -p %s", p.Namespace, w.owner.resource, w.owner.name, shellQuote(string(patch)))
	}
	if w.owner.name != "" {
		return editCmd(w.owner.resource, p.Namespace, w.owner.name)
	}
	return fmt.Sprintf("kubectl -n %s get pod %s -o yaml | kubectl label --local -f - %s=true --overwrite -o yaml | kubectl replace --force -f -", p.Namespace, p.Name, wi.UseLabel)
}

// restartCmd recreates the workload's pods, so that the webhook sees them
// again: a rollout, or deleting pods their owner replaces, or recreating
// a bare pod from itself.
func restartCmd(w workloadPods) string {
	p := w.pods[0]
	switch {
	case w.owner.templated():
		return fmt.Sprintf("kubectl -n %s rollout restart %s/%s", p.Namespace, w.owner.resource, w.owner.name)
	case w.owner.name != "":
		return fmt.Sprintf("kubectl -n %s delete pod %s", p.Namespace, strings.ReplaceAll(w.podNames(), ", ", " "))
	}
	return fmt.Sprintf("kubectl -n %s get pod %s -o yaml | kubectl replace --force -f -", p.Namespace, p.Name)
}

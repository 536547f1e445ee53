package agent

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/podid/podid/internal/agent/podif"
)

// nodePods follows the node's pods for the rules: their UIDs and
// addresses, and a signal on every change so that a starting pod gets its
// rule at once instead of at the next repair. It shares the pod index's
// watch (podindex.Informers.Pods): one watch of the node's pods per agent.
type nodePods struct {
	inf     cache.SharedIndexInformer
	changed chan struct{}
}

func followNodePods(inf cache.SharedIndexInformer) (*nodePods, error) {
	n := &nodePods{inf: inf, changed: make(chan struct{}, 1)}
	notify := func() {
		select {
		case n.changed <- struct{}{}:
		default: // a sync is already due
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}); err != nil {
		return nil, fmt.Errorf("follow the node's pods: %w", err)
	}
	return n, nil
}

// list returns the node's live pods (Pending or Running).
func (n *nodePods) list() []podif.Pod {
	var out []podif.Pod
	for _, obj := range n.inf.GetStore().List() {
		p, ok := obj.(*corev1.Pod)
		if !ok || (p.Status.Phase != corev1.PodPending && p.Status.Phase != corev1.PodRunning) {
			continue
		}
		out = append(out, toRulePod(p))
	}
	return out
}

func toRulePod(p *corev1.Pod) podif.Pod {
	out := podif.Pod{UID: string(p.UID), Name: p.Namespace + "/" + p.Name, HostNetwork: p.Spec.HostNetwork}
	add := func(s string) {
		if ip, err := netip.ParseAddr(s); err == nil {
			out.IPs = append(out.IPs, ip)
		}
	}
	add(p.Status.PodIP)
	for _, ip := range p.Status.PodIPs {
		add(ip.IP)
	}
	return out
}

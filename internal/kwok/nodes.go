package kwok

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxNodes is how many nodes the loopback layout has room for.
const MaxNodes = 3072

// NodeSpec describes one fake node.
type NodeSpec struct {
	Name string
	// PodCIDR is where kwok takes the node's pod IPs from.
	PodCIDR netip.Prefix
	// InternalIP becomes the hostIP of the node's pods; podid runs the
	// node's agent on it.
	InternalIP netip.Addr
	// ProviderID names the VM or VMSS instance behind the node, as the
	// Azure cloud provider writes it (azure:///subscriptions/...).
	ProviderID string
	// Labels are added to the node.
	Labels map[string]string
	// Taints keep pods that do not tolerate them off the node.
	Taints []corev1.Taint
}

// Layout returns the address plan of node i (0-based): pods of node i live
// in 127.(64+i/16).((i%16)*16).0/20, room for 4096 pods, and the node itself
// at 127.32.x.y. All of 127.0.0.0/8 is local on Linux, so no set-up is needed
// to bind these addresses.
func Layout(i int) (podCIDR netip.Prefix, internalIP netip.Addr, err error) {
	if i < 0 || i >= MaxNodes {
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("node index %d out of range: the loopback layout has room for %d nodes", i, MaxNodes)
	}
	podCIDR = netip.PrefixFrom(netip.AddrFrom4([4]byte{127, byte(64 + i/16), byte((i % 16) * 16), 0}), 20)
	n := i + 1
	internalIP = netip.AddrFrom4([4]byte{127, 32, byte(n / 256), byte(n % 256)})
	return podCIDR, internalIP, nil
}

// Node builds the Node object kwok will manage.
func Node(s NodeSpec) *corev1.Node {
	labels := map[string]string{
		"type":                   "kwok",
		"kubernetes.io/hostname": s.Name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
	}
	for k, v := range s.Labels {
		labels[k] = v
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("4096"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        s.Name,
			Labels:      labels,
			Annotations: map[string]string{ManagedAnnotation: ManagedAnnotationValue},
		},
		Spec: corev1.NodeSpec{
			PodCIDR:    s.PodCIDR.String(),
			PodCIDRs:   []string{s.PodCIDR.String()},
			ProviderID: s.ProviderID,
			Taints:     s.Taints,
		},
		Status: corev1.NodeStatus{
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: s.InternalIP.String()}},
			Capacity:    capacity,
			Allocatable: capacity,
		},
	}
}

package podif

// Reason says which redirect Decide chose and why.
type Reason string

const (
	// ReasonPerPod: each pod is redirected only from its own interface.
	ReasonPerPod Reason = "PerPodInterfaces"
	// ReasonNoPodsYet: no pod has an address yet, so there is nothing to
	// tell the CNI's shape by; the pod CIDRs are redirected meanwhile.
	ReasonNoPodsYet Reason = "NoPodsYet"
	// ReasonNoPodInterfaces: pods have addresses but none has a host-side
	// interface found; the pod CIDRs are redirected.
	ReasonNoPodInterfaces Reason = "NoPodInterfaces"
	// ReasonPhysdevUnusable: pods are on bridge ports that iptables cannot
	// see; the pod CIDRs are redirected.
	ReasonPhysdevUnusable Reason = "PhysdevUnusable"
	// ReasonDiscoveryFailed: the interfaces could not be read.
	ReasonDiscoveryFailed Reason = "DiscoveryFailed"
)

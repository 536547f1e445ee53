package podif

// Found is what Discover read from the node.
type Found struct {
	// Links are the host namespace's network interfaces.
	Links []Link
	// Sandboxes map each pod UID with a process on the node to the IDs,
	// in the host's namespace, of its processes' network namespaces.
	Sandboxes map[string][]int32
	// Physdev is why iptables cannot match bridge ports; nil when it can.
	Physdev error
}

// Interfaces is HostInterfaces of what was found.
func (f Found) Interfaces() map[string][]Interface {
	return HostInterfaces(f.Links, f.Sandboxes)
}

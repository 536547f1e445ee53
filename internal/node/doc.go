// Package node runs real Kubernetes nodes on this machine: for each node a
// containerd (its own config, root, state and socket under the node's
// folder) and a kubelet (config file, node IP, pod CIDR, bridge CNI) as
// supervised children, and a teardown that leaves no process, mount, link,
// network namespace, cgroup or log link behind.
//
// The layout of a node (its bridge, addresses and folders) is decided by
// Layout and the configuration files by the pure renderers in config.go;
// Start and Stop do the I/O. A node's pods reach only the node's own
// addresses: the bridge has no masquerade and nothing is forwarded off the
// machine, so nothing outside podid's own network changes.
//
// With ACR settings (acr.go) a node pulls from the embedded cloud's
// container registries as an AKS node does: the kubelet runs podid's
// acr-credential-provider for *.azurecr.io images with an azure.json
// naming the kubelet identity, and containerd reaches <name>.azurecr.io
// through a loopback CONNECT proxy (frontdoor.go) that ends those tunnels
// at the cloud's front door, trusting the cloud's CA for the login servers
// only. The machine's /etc/hosts and trust store are not touched.
package node

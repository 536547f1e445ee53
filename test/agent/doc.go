// Package agent tests the node agent (nmi) end to end: a real etcd,
// kube-apiserver and kwok cluster, the embedded Azure cloud, mic's
// controllers in-process and one agent per node, also in-process, each
// listening on its node's InternalIP. Real azidentity clients speak from a
// kwok pod's IP (its TCP source address) to the agent of the pod's node, as
// iptables would send them, and must get a token for the bound identity in
// federated and node mode, while callers that must not get one are refused
// with the IMDS error bodies of the research notes.
package agent

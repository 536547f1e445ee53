// Package realnode tests podid's real nodes (internal/node) on this
// machine: containerd and a kubelet that run pods in their own network
// namespaces, and a teardown that leaves the machine as it found it.
// The tests need root, containerd, runc and the CNI plugins; they skip
// without them, except under CI, where they fail.
package realnode

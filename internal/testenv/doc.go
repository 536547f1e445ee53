// Package testenv starts a real Kubernetes control plane for tests: etcd and
// kube-apiserver built from source (internal/controlplane), podid's CRDs,
// and kwok with N fake nodes whose pods turn Running with loopback IPs.
//
// One call gives a ready cluster and a cleanup that leaves no process
// behind, even when the test binary is killed (children die with it).
// Tests share one Env per package where they can and isolate themselves by
// namespace; see NewNamespace.
package testenv

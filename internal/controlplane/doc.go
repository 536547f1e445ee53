// Package controlplane runs a real Kubernetes control plane, etcd and
// kube-apiserver, as child processes on loopback, with no Docker and no
// kubelet. Tests (through internal/testenv) and `podid up` both use it.
//
// It generates its own CA, serving certificate, admin client certificate and
// an RSA service-account signing key (RS256, the only algorithm Azure AD
// federation is documented to accept), so service-account tokens it issues
// can be exchanged at the embedded cloud. The binaries come from
// hack/k8s-bin.sh.
package controlplane

// Package integration holds tests that run podid's parts against a real
// kube-apiserver, etcd and kwok (internal/testenv). One cluster serves the
// whole package; tests isolate themselves by namespace.
package integration

// Package faults holds resilience tests: the whole node (cluster, cloud,
// mic and the real agent managing iptables) in network namespaces, with
// faults injected while pods keep calling the metadata endpoint. Its tests
// need root, iproute2, iptables and curl; testenv.RequireNetworkNamespaces
// skips them elsewhere, except under CI.
package faults

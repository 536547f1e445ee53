// Package netnode holds the fixtures that test/agent, test/clients and
// test/faults share: the embedded cloud's test world for the agent (one
// resource group with a federated identity, a scale set and mic's
// application), mic run in-process against it, and the network-namespace
// plumbing that puts a node, its pods and an IMDS in namespaces joined by
// veth pairs, with this test binary re-executed as a helper inside them.
//
// Namespaces and helpers are removed by the test's cleanups, so a test
// leaves no namespace or process behind.
package netnode

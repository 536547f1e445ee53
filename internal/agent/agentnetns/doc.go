// Package agentnetns holds the whole-agent network-namespace tests of the
// per-pod redirect: agent.Run in a node namespace whose pods sit on
// bridge ports, with an API server stand-in that lists and adds pods. Its
// only code is tests.
package agentnetns

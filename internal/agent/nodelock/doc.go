// Package nodelock is the lock a podid node agent holds on its node while
// it owns the metadata redirect, so that a second agent (another podid
// installation, or a second Helm release) refuses to start instead of
// fighting the first over the node's iptables rules.
//
// The lock is flock(2) on a file in a host folder (/run/podid/nmi.lock by
// default, a hostPath in the chart): the kernel releases it when the
// holder exits for whatever reason, SIGKILL included, so a crashed agent
// never blocks its successor. The holder writes who it is into the file
// (Holder), so the agent that is refused can name it.
package nodelock

// Package peer finds the process behind a local TCP connection and the pod
// it runs in, as the kernel knows them: the connection's socket in
// /proc/net/tcp, the process holding that socket among /proc/<pid>/fd, and
// the pod UID in that process's cgroup path (kubepods…pod<uid>). An
// address can be spoofed or shared by every hostNetwork pod; this cannot.
//
// It reads the host's /proc, so the agent needs the host PID namespace
// (hostPID in the chart) for processes of other pods to be visible.
package peer

// Package up is the `podid up` command: the whole system on this machine.
//
// It loads the world, asks package internal/up for a plan, and either
// prints it (--dry-run) or applies it: the control plane, the embedded
// cloud (in this process), kwok and its nodes, mic and one nmi per node as
// child processes of this process, and the demo. With --detach the same
// command runs again as a background supervisor (hidden --supervise flag)
// and this one returns once the supervisor's record says ready.
package up

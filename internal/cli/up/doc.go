// Package up is the `podid up` command: the whole system on this machine.
//
// It loads the world, asks package internal/plan for a plan, and either
// prints it (--dry-run) or applies it: the control plane, the embedded
// cloud (in this process), kwok and its nodes, mic and one nmi per node as
// child processes of this process, and the demo. With --detach the same
// command runs again as a background supervisor (hidden --supervise flag),
// given every flag the user set as read back from the parsed flag set, and
// this one returns once the supervisor's record says ready.
package up

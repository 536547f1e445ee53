// Package runstate keeps the on-disk state of a `podid up` run: the lock
// that makes a second `podid up` on the same state folder refuse to start,
// the JSON record of what runs, and checks and signals that reach a recorded
// process only while it is still the same process (PID plus its kernel
// start time, so a reused PID is never signalled).
package runstate

// Package down is the `podid down` command: it stops a detached `podid up`
// through the PIDs its record lists, and only those processes.
package down

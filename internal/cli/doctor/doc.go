// Package doctor is `podid doctor`: it reads a cluster (any cluster, or
// the one a podid up run serves), probes its node agents, runs the
// doctor's checks (internal/doctor) and prints what is wrong and the
// command that fixes it. It never writes to the cluster, and exits
// non-zero when a check failed.
package doctor

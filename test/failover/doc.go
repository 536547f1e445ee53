// Package failover runs two mic processes against one cluster and kills the
// leader, checking that the other takes over through the Lease and that no
// assignment is lost or made twice.
package failover

// Package status is the `podid status` command: what a `podid up` run on
// this machine is running, read from its state folder.
package status

// Package daemon holds the hidden `podid mic` and `podid nmi` commands: the
// controller and the node agent run from the podid binary itself, so that
// `podid up` needs no other executable. They take the same flags as
// cmd/mic and cmd/nmi.
package daemon

// Package daemon holds the `mic` and `nmi` commands: the controller and the
// node agent. cmd/mic and cmd/nmi execute these same commands, and podid
// adds them as hidden `podid mic` and `podid nmi` so that `podid up` needs
// no other executable; every flag is declared here once.
package daemon

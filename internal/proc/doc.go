// Package proc starts and stops the child processes podid runs (etcd,
// kube-apiserver, kwok, and later the controller and node agents).
//
// A child is put in its own process group, so a Ctrl-C in the terminal
// reaches podid first and podid stops its children in order, and it gets
// SIGKILL from the kernel if podid dies, so a killed test or a crashed
// `podid up` leaves nothing behind. Output goes to a log file whose path the
// caller can show when something fails.
package proc

//go:build unix

// Command podid-pause is the process of podid's pause image, the container
// that holds a pod's namespaces while its other containers come and go.
//
// It sleeps until SIGTERM or SIGINT, then exits 0. As PID 1 of a pod that
// shares its process namespace it is every orphan's parent, so it also
// reaps zombies on SIGCHLD; without that, exited processes would pile up
// in the process table until the pod dies.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if os.Getpid() == 1 {
		children := make(chan os.Signal, 1)
		signal.Notify(children, syscall.SIGCHLD)
		go reap(children)
	}
	<-stop
	os.Exit(0)
}

// reap waits for every exited child after each SIGCHLD. Signals coalesce,
// so one SIGCHLD can stand for several children: wait until none is left.
func reap(sigchld <-chan os.Signal) {
	for range sigchld {
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}

package proc

import (
	"os/exec"
	"runtime"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr {
	// Pdeathsig fires when the thread that forked the child exits, not the
	// process; startLocked pins the fork to a thread that lives as long as
	// the process.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// forkThread runs every fork on one goroutine locked to its OS thread. That
// thread never exits, so Pdeathsig fires only when podid itself dies.
var forkRequests = make(chan func())

func init() {
	go func() {
		runtime.LockOSThread()
		for f := range forkRequests {
			f()
		}
	}()
}

func startLocked(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	forkRequests <- func() { errc <- cmd.Start() }
	return <-errc
}

package runstate

import (
	"errors"
	"syscall"

	"github.com/podid/podid/internal/plan"
)

// Describe returns p with StartTicks filled in from the running process.
func Describe(p plan.Process) plan.Process {
	if t, err := startTicks(p.PID); err == nil {
		p.StartTicks = t
	}
	return p
}

// Alive reports whether p still runs and is the process that was recorded.
func Alive(p plan.Process) bool {
	if p.PID <= 0 {
		return false
	}
	if err := syscall.Kill(p.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if p.StartTicks == 0 {
		return true
	}
	t, err := startTicks(p.PID)
	return err == nil && t == p.StartTicks && !zombie(p.PID)
}

// Signal sends sig to p only if it is still the recorded process.
func Signal(p plan.Process, sig syscall.Signal) error {
	if !Alive(p) {
		return nil
	}
	return syscall.Kill(p.PID, sig)
}

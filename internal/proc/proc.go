package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec says what to run.
type Spec struct {
	// Name is used in errors and logs, e.g. "etcd".
	Name string
	// Path is the executable.
	Path string
	// Args are the arguments, without the program name.
	Args []string
	// Env is added to the parent's environment.
	Env []string
	// LogFile receives stdout and stderr; empty means discard.
	LogFile string
	// Dir is the working directory; empty means the parent's.
	Dir string
}

// Process is a running child.
type Process struct {
	spec Spec
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // set before done is closed

	stopOnce sync.Once
}

// Start runs spec. The child dies with the calling process.
func Start(spec Spec) (*Process, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Dir = spec.Dir
	cmd.SysProcAttr = sysProcAttr()
	var logf *os.File
	if spec.LogFile != "" {
		f, err := os.OpenFile(spec.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open log of %s: %w", spec.Name, err)
		}
		logf = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := startLocked(cmd); err != nil {
		if logf != nil {
			_ = logf.Close()
		}
		return nil, fmt.Errorf("start %s (%s): %w", spec.Name, spec.Path, err)
	}
	p := &Process{spec: spec, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if logf != nil {
			_ = logf.Close()
		}
		close(p.done)
	}()
	return p, nil
}

// PID is the child's process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Name is the Spec's name.
func (p *Process) Name() string { return p.spec.Name }

// LogFile is where the child's output goes.
func (p *Process) LogFile() string { return p.spec.LogFile }

// Done is closed when the child has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the child has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop asks the child to exit with SIGTERM and kills it (with its process
// group) after grace. It returns once the child is gone. Calling it again is
// harmless.
func (p *Process) Stop(grace time.Duration) {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// ErrExited is returned by WaitUntil when the child exits before it is ready.
var ErrExited = errors.New("process exited")

// WaitUntil calls ready every interval until it returns nil, the child
// exits, or ctx ends. Errors name the child and quote the end of its log.
func (p *Process) WaitUntil(ctx context.Context, interval time.Duration, ready func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last error
	for {
		if last = ready(ctx); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s %w (%v) before it was ready; last check: %v%s", p.spec.Name, ErrExited, p.err, last, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w; last check: %v%s", p.spec.Name, ctx.Err(), last, p.logTail())
		case <-t.C:
		}
	}
}

// logTail returns the last lines of the child's log, for error messages.
func (p *Process) logTail() string {
	if p.spec.LogFile == "" {
		return ""
	}
	raw, err := os.ReadFile(p.spec.LogFile)
	if err != nil || len(raw) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return fmt.Sprintf("\nlast lines of %s:\n  %s", p.spec.LogFile, strings.Join(lines, "\n  "))
}

// Signal sends sig to the child.
func (p *Process) Signal(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.spec.Name, err)
	}
	return nil
}

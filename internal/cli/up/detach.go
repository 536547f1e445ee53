package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// detach starts podid with args (`up --supervise` and the user's flags) in
// its own session, shows its log while it starts, and returns once its
// record says ready. Interrupting the start stops the supervisor.
func detach(ctx context.Context, p *plan.Plan, args []string, out, errOut io.Writer) error {
	if runstate.Held(p.LockFile) {
		return alreadyRunning(p)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the podid executable: %w", err)
	}
	logf, err := os.Create(p.LogFile)
	if err != nil {
		return fmt.Errorf("create %s: %w", p.LogFile, err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start podid up in the background: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	follow := &follower{path: p.LogFile, w: errOut}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		follow.copy()
		rec, err := runstate.Read(p.RecordFile)
		if err == nil && rec.Ready && rec.Supervisor.PID == cmd.Process.Pid {
			if err := plan.RenderStatus(out, rec, runstate.Alive); err != nil {
				return err
			}
			return plan.RenderNext(out, rec, true)
		}
		select {
		case err := <-done:
			follow.copy()
			if err == nil {
				err = errors.New("exit status 0")
			}
			return fmt.Errorf("podid up stopped before it was ready (%v); its log is %s", err, p.LogFile)
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-done
			return fmt.Errorf("start interrupted; the background podid up stopped: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// follower copies what was appended to a file since the last call.
type follower struct {
	path   string
	offset int64
	w      io.Writer
}

func (f *follower) copy() {
	fh, err := os.Open(f.path)
	if err != nil {
		return
	}
	defer fh.Close()
	if _, err := fh.Seek(f.offset, io.SeekStart); err != nil {
		return
	}
	n, _ := io.Copy(f.w, fh)
	f.offset += n
}

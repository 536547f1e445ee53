package up

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
	"github.com/podid/podid/internal/proc"
)

// supervise applies the plan, records the run, and keeps it running until
// ctx ends or a child exits; then it stops everything. The caller holds the
// lock.
func supervise(ctx context.Context, o *Options, p *plan.Plan, out, errOut io.Writer) error {
	start := time.Now()
	log := o.Log.New(errOut)
	o.Log.Install(log) // client-go and controller-runtime, used in-process

	self := plan.Process{Name: "podid up", PID: os.Getpid()}
	if o.supervise {
		self.Log = p.LogFile
	}
	rec := &plan.Record{Supervisor: runstate.Describe(self), StartedAt: start, StateDir: p.StateDir, Kubeconfig: p.Kubeconfig, TokenMode: p.TokenMode, Skipped: p.Skipped, Fixes: p.SkipFixes()}
	if err := runstate.Write(p.RecordFile, rec); err != nil {
		return err
	}
	defer os.Remove(p.RecordFile)

	r := &runner{p: p, log: log, progress: errOut, nodeRegistries: o.NodeRegistries, kubeletSP: o.KubeletServicePrincipal}
	defer r.stop()
	startCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	err := r.apply(startCtx)
	cancel()
	if err != nil {
		r.stop()
		return fmt.Errorf("podid up failed and stopped everything it had started: %w", err)
	}
	r.fill(rec)
	rec.Ready, rec.StartSeconds = true, time.Since(start).Seconds()
	if err := runstate.Write(p.RecordFile, rec); err != nil {
		return err
	}
	log.Info("ready", "seconds", fmt.Sprintf("%.1f", rec.StartSeconds))
	if !o.supervise { // --detach prints the status itself
		if err := plan.RenderStatus(out, rec, runstate.Alive); err != nil {
			return err
		}
		if err := plan.RenderNext(out, rec, false); err != nil {
			return err
		}
	}

	select {
	case <-ctx.Done():
		log.Info("stopping", "reason", context.Cause(ctx))
	case c := <-exited(r.children):
		_, cerr := c.Exited()
		err = fmt.Errorf("%s exited (%v), so podid up stopped everything; its log is %s", c.Name(), cerr, c.LogFile())
	}
	r.stop()
	log.Info("stopped")
	return err
}

// exited delivers the first child that exits.
func exited(children []*proc.Process) <-chan *proc.Process {
	ch := make(chan *proc.Process, len(children))
	for _, c := range children {
		go func() {
			<-c.Done()
			ch <- c
		}()
	}
	return ch
}

// fill copies what runs into the record.
func (r *runner) fill(rec *plan.Record) {
	rec.APIServer, rec.Issuer, rec.APIServerCA = r.cp.URL, r.cp.Issuer, r.cp.CAFile
	rec.SignIn = r.p.SignIn
	rec.CloudURL, rec.CloudCA = r.rt.CloudURL, r.rt.CloudCA
	rec.TenantID, rec.MicClientID, rec.MicSecretFile = r.p.TenantID, r.p.Mic.AppID, r.p.Mic.SecretFile
	rec.DoctorClientID, rec.DoctorSecretFile = r.p.Doctor.AppID, r.p.Doctor.SecretFile
	rec.Vaults = r.cloud.VaultURLs()
	rec.Demo = r.p.Demo
	rec.Chart = r.p.Chart
	rec.ACR = r.acrRecord()
	if r.images != nil {
		rec.ImageRegistry = r.images.Addr
	}
	rec.Agents = map[string]string{}
	for _, n := range r.p.AllNodes() {
		rec.Agents[n.Name] = n.AgentAddr
	}
	for _, c := range r.started {
		if c.describe == nil {
			continue
		}
		for _, p := range c.describe() {
			rec.Processes = append(rec.Processes, runstate.Describe(p))
		}
	}
	rec.Supervisor.Address = r.rt.CloudURL + " (embedded cloud)"
}

package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/podid/podid/internal/proc"
)

// Stopping and starting one part of a running control plane, for tests of
// what clients do while the API server or etcd is away. A part started
// again keeps its flags, so its address, certificates, data directory and
// log file are those it had: clients reconnect to where they were.

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after
// DefaultStopGrace) and returns once it has exited; etcd keeps running.
func (cp *ControlPlane) StopAPIServer() {
	cp.apiserver.Stop(DefaultStopGrace)
}

// StartAPIServer starts kube-apiserver again, as it was, and returns once
// its /readyz answers 200. It fails if the apiserver still runs.
func (cp *ControlPlane) StartAPIServer(ctx context.Context) error {
	p, err := restart(cp.apiserver)
	if err != nil {
		return err
	}
	cp.apiserver = p
	client, err := adminHTTPClient(cp.keys)
	if err != nil {
		return err
	}
	if err := p.WaitUntil(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		return httpOK(ctx, client, cp.URL+"/readyz")
	}); err != nil {
		return fmt.Errorf("restart kube-apiserver: %w", err)
	}
	return nil
}

// StopEtcd stops etcd (SIGTERM, then SIGKILL after DefaultStopGrace) and
// returns once it has exited; the apiserver keeps running and answers
// errors meanwhile.
func (cp *ControlPlane) StopEtcd() {
	cp.etcd.Stop(DefaultStopGrace)
}

// StartEtcd starts etcd again on its data directory and ports, and returns
// once etcd reports healthy and the apiserver, which reconnects on its
// own, is ready again.
func (cp *ControlPlane) StartEtcd(ctx context.Context) error {
	p, err := restart(cp.etcd)
	if err != nil {
		return err
	}
	cp.etcd = p
	clientURL := flagValue(p.Spec().Args, "--listen-client-urls")
	if clientURL == "" {
		return errors.New("restart etcd: its flags name no client URL")
	}
	health := &http.Client{Timeout: time.Second}
	if err := p.WaitUntil(ctx, 50*time.Millisecond, func(ctx context.Context) error {
		return httpOK(ctx, health, clientURL+"/health")
	}); err != nil {
		return fmt.Errorf("restart etcd: %w", err)
	}
	client, err := adminHTTPClient(cp.keys)
	if err != nil {
		return err
	}
	if err := cp.apiserver.WaitUntil(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		return httpOK(ctx, client, cp.URL+"/readyz")
	}); err != nil {
		return fmt.Errorf("wait for kube-apiserver after restarting etcd: %w", err)
	}
	return nil
}

// restart starts the program of a stopped child again.
func restart(old *proc.Process) (*proc.Process, error) {
	if old == nil {
		return nil, errors.New("restart: the control plane never started it")
	}
	if exited, _ := old.Exited(); !exited {
		return nil, fmt.Errorf("restart %s: it is still running; stop it first", old.Name())
	}
	p, err := proc.Start(old.Spec())
	if err != nil {
		return nil, fmt.Errorf("restart %s: %w", old.Name(), err)
	}
	return p, nil
}

// flagValue is the value of "--name=value" in args, or "".
func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

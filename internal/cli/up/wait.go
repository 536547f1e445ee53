package up

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// readyTimeout bounds the wait for nodes, pods, assignments and agents.
const readyTimeout = 2 * time.Minute

// waitReady waits until the nodes are Ready, every agent answers /readyz and
// the demo's pods run with their assignments Assigned (or, when a skipped
// seed 004 step makes them fail, merely created). A child that exits
// meanwhile fails the wait, naming its log.
func (r *runner) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	checks := []struct {
		what  string
		check func(context.Context) error
	}{
		{"nodes Ready", r.nodesReady},
	}
	if r.p.Chart == nil {
		checks = append(checks, struct {
			what  string
			check func(context.Context) error
		}{"agents ready", r.agentsReady})
	}
	if r.p.Demo != nil {
		checks = append(checks, struct {
			what  string
			check func(context.Context) error
		}{"demo pods Running and assigned", r.demoReady})
	}
	for _, c := range checks {
		r.log.Info("waiting", "for", c.what)
		if err := r.poll(ctx, c.check); err != nil {
			return fmt.Errorf("wait for %s: %w", c.what, err)
		}
	}
	return nil
}

// poll retries check until it passes, ctx ends or a child exits.
func (r *runner) poll(ctx context.Context, check func(context.Context) error) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		if dead := r.exitedChild(); dead != nil {
			return dead
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last check: %v", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// exitedChild returns an error naming the first child that has exited.
func (r *runner) exitedChild() error {
	for _, c := range r.children {
		if done, err := c.Exited(); done {
			return fmt.Errorf("%s exited (%v); its log is %s", c.Name(), err, c.LogFile())
		}
	}
	return nil
}

func (r *runner) nodesReady(ctx context.Context) error {
	for _, n := range r.p.AllNodes() {
		node, err := r.kube.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ready := false
		for _, c := range node.Status.Conditions {
			ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
		}
		if !ready {
			return fmt.Errorf("node %s is not Ready", n.Name)
		}
	}
	return nil
}

var agentProbe = &http.Client{Timeout: time.Second}

func (r *runner) agentsReady(ctx context.Context) error {
	for _, n := range r.p.AllNodes() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.ProbeAddr+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := agentProbe.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("agent of %s: /readyz %d", n.Name, resp.StatusCode)
		}
	}
	return nil
}

var errNotYet = errors.New("not yet")

func (r *runner) demoReady(ctx context.Context) error {
	d := r.p.Demo
	for _, want := range d.Pods {
		pod, err := r.kube.CoreV1().Pods(d.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
			return fmt.Errorf("pod %s/%s is %s: %w", d.Namespace, want.Name, pod.Status.Phase, errNotYet)
		}
	}
	var list podidv1.AzureAssignedIdentityList
	if err := r.client.List(ctx, &list); err != nil {
		return err
	}
	// With a seed 004 role step skipped, assignments stay Created: that
	// they exist is all there is to wait for.
	want := podidv1.AssignedIDAssigned
	if r.p.AssignmentsFail() {
		want = ""
	}
	if r.p.Chart != nil {
		return nil // no mic until the user installs podid
	}
	assigned := map[string]bool{}
	for _, a := range list.Items {
		if want == "" || a.Status.Status == want {
			assigned[a.Spec.PodNamespace+"/"+a.Spec.Pod] = true
		}
	}
	for _, pod := range d.BoundPods() {
		if !assigned[pod] {
			return fmt.Errorf("pod %s has no %s AzureAssignedIdentity: %w", pod, want, errNotYet)
		}
	}
	return nil
}

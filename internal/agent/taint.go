package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// withoutTaint returns taints without those with key, and whether any was
// there.
func withoutTaint(taints []corev1.Taint, key string) ([]corev1.Taint, bool) {
	out := make([]corev1.Taint, 0, len(taints))
	for _, t := range taints {
		if t.Key != key {
			out = append(out, t)
		}
	}
	return out, len(out) != len(taints)
}

// taintPatch is a JSON patch that replaces the node's taints with want only
// if they are still have: a taint someone adds meanwhile is not lost, the
// patch fails and is made again from a fresh read.
func taintPatch(have, want []corev1.Taint) ([]byte, error) {
	ops := []map[string]any{
		{"op": "test", "path": "/spec/taints", "value": have},
		{"op": "replace", "path": "/spec/taints", "value": want},
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encode taint patch: %w", err)
	}
	return b, nil
}

// removeNodeTaint waits until ready() passes, then removes the taint key
// from node, retrying with back-off until it is gone or ctx ends. A node
// without the taint is left as it is. A Node that does not exist yet is
// waited for: an agent may be ready before its kubelet has registered the
// node (podid up starts both at once), and giving up then left the node
// tainted for good.
func removeNodeTaint(ctx context.Context, kube kubernetes.Interface, node, key string, ready func() error, log *slog.Logger) {
	log = log.With("node", node, "taint", key)
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		return ready() == nil, nil
	}); err != nil {
		return
	}
	const registerPoll, maxBackoff = 500 * time.Millisecond, 30 * time.Second
	delay, saidMissing := registerPoll, false
	for {
		removed, err := untaint(ctx, kube, node, key)
		switch {
		case apierrors.IsNotFound(err):
			if !saidMissing {
				log.Info("no Node object of this name yet; waiting for it to register to remove its taint")
				saidMissing = true
			}
			delay = registerPoll
		case err != nil:
			log.Warn("could not remove the node's agent-not-ready taint; retrying", "error", err, "retry", delay.String())
			delay = min(2*delay, maxBackoff)
		case removed:
			log.Info("the agent is ready: removed the node's taint, so pods may now be scheduled here")
			return
		default:
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// untaint removes key from node's taints once; removed is false when the
// node did not have it.
func untaint(ctx context.Context, kube kubernetes.Interface, node, key string) (removed bool, err error) {
	n, err := kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("read node %s: %w", node, err)
	}
	want, found := withoutTaint(n.Spec.Taints, key)
	if !found {
		return false, nil
	}
	patch, err := taintPatch(n.Spec.Taints, want)
	if err != nil {
		return false, err
	}
	if _, err := kube.CoreV1().Nodes().Patch(ctx, node, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		if apierrors.IsForbidden(err) {
			return false, fmt.Errorf("patch node %s: %w (the agent's ClusterRole needs get and patch on nodes)", node, err)
		}
		return false, fmt.Errorf("patch node %s: %w", node, err)
	}
	return true, nil
}

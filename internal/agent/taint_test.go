package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	v1 "github.com/podid/podid/api/v1"
)

func taintKeys(ts []corev1.Taint) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Key)
	}
	return out
}

// TestRemoveNodeTaint removes only the agent's taint, and only once the
// agent is ready; other taints, and nodes without it, are left alone.
func TestRemoveNodeTaint(t *testing.T) {
	other := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	mine := corev1.Taint{Key: v1.AgentNotReadyTaint, Value: "true", Effect: corev1.TaintEffectNoSchedule}
	cases := map[string]struct {
		taints []corev1.Taint
		want   []string
		patch  bool
	}{
		"the agent's taint goes, others stay":  {taints: []corev1.Taint{other, mine}, want: []string{"dedicated"}, patch: true},
		"the only taint goes":                  {taints: []corev1.Taint{mine}, want: nil, patch: true},
		"a node without it is not written":     {taints: []corev1.Taint{other}, want: []string{"dedicated"}},
		"a node without taints is not written": {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kube := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: tc.taints}})
			var ready atomic.Bool
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				removeNodeTaint(ctx, kube, "n1", v1.AgentNotReadyTaint, func() error {
					if !ready.Load() {
						return errors.New("not ready")
					}
					return nil
				}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			}()
			time.Sleep(500 * time.Millisecond)
			for _, a := range kube.Actions() {
				if a.GetVerb() == "patch" {
					t.Fatal("the node was patched before the agent was ready")
				}
			}
			ready.Store(true)
			<-done
			n, err := kube.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := taintKeys(n.Spec.Taints); !slices.Equal(got, tc.want) {
				t.Errorf("taints %v, want %v", got, tc.want)
			}
			patched := slices.ContainsFunc(kube.Actions(), func(a k8stesting.Action) bool { return a.GetVerb() == "patch" })
			if patched != tc.patch {
				t.Errorf("patched %v, want %v", patched, tc.patch)
			}
		})
	}
}

// TestRemoveNodeTaintWithoutANode gives up at once when no Node has the
// agent's node name, instead of retrying forever.
func TestRemoveNodeTaintOfANodeThatRegistersLater(t *testing.T) {
	kube := fake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		removeNodeTaint(ctx, kube, "n1", v1.AgentNotReadyTaint, func() error { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	// The kubelet registers the node after the agent is ready.
	time.Sleep(700 * time.Millisecond)
	taint := corev1.Taint{Key: v1.AgentNotReadyTaint, Value: "true", Effect: corev1.TaintEffectNoSchedule}
	if _, err := kube.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{taint}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("removeNodeTaint did not finish once the node registered")
	}
	n, err := kube.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil || len(n.Spec.Taints) != 0 {
		t.Fatalf("node taints %v (%v), want the agent's taint removed", n.Spec.Taints, err)
	}
}

// TestTaintPatchRefusesAChangedNode: the patch carries the taints it read,
// so a taint added meanwhile makes it fail instead of being dropped.
func TestTaintPatchRefusesAChangedNode(t *testing.T) {
	mine := corev1.Taint{Key: v1.AgentNotReadyTaint, Effect: corev1.TaintEffectNoSchedule}
	added := corev1.Taint{Key: "added-meanwhile", Effect: corev1.TaintEffectNoExecute}
	kube := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{mine, added}}})
	patch, err := taintPatch([]corev1.Taint{mine}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Nodes().Patch(context.Background(), "n1", "application/json-patch+json", patch, metav1.PatchOptions{}); err == nil {
		t.Fatal("a patch made from an older read was applied")
	}
}

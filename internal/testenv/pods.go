package testenv

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// PodSpec is what tests usually vary in a pod.
type PodSpec struct {
	Namespace   string
	Name        string
	Node        string
	Labels      map[string]string
	HostNetwork bool
	// ServiceAccount defaults to "default".
	ServiceAccount string
}

// Pod builds a pod that kwok will run: it is bound to its node directly
// (kwok does not schedule) and tolerates the kwok taint.
func Pod(s PodSpec) *corev1.Pod {
	sa := s.ServiceAccount
	if sa == "" {
		sa = "default"
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: s.Labels},
		Spec: corev1.PodSpec{
			NodeName:           s.Node,
			HostNetwork:        s.HostNetwork,
			ServiceAccountName: sa,
			Containers:         []corev1.Container{{Name: "app", Image: "example.invalid/app:1"}},
			Tolerations: []corev1.Toleration{
				{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
			},
		},
	}
}

// NewNamespace creates a namespace named after the test and deletes it when
// the test ends.
func (e *Env) NewNamespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	got, err := e.Kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = e.Kube.CoreV1().Namespaces().Delete(context.Background(), got.Name, metav1.DeleteOptions{})
	})
	return got.Name
}

// DeleteNamespace deletes a namespace and waits until it is gone, so that
// the next test may create it again (seed manifests name their own
// namespace). A namespace that is still terminating after a minute fails
// the test.
func (e *Env) DeleteNamespace(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := e.Kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	for err == nil {
		select {
		case <-ctx.Done():
			t.Errorf("namespace %s is still terminating after a minute", name)
			return
		case <-time.After(200 * time.Millisecond):
		}
		_, err = e.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	}
	if !apierrors.IsNotFound(err) {
		t.Errorf("delete namespace %s: %v", name, err)
	}
}

// CreatePods creates pods with up to parallel requests in flight.
func (e *Env) CreatePods(ctx context.Context, pods []*corev1.Pod, parallel int) error {
	if parallel < 1 {
		parallel = 1
	}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pods) {
					return
				}
				p := pods[i]
				if _, err := e.Kube.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("create pod %s/%s: %w", p.Namespace, p.Name, err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// WaitPodsRunning waits until want pods of namespace ns are Running with a
// pod IP, and returns them.
func (e *Env) WaitPodsRunning(ctx context.Context, ns string, want int, timeout time.Duration) ([]corev1.Pod, error) {
	var pods []corev1.Pod
	running := 0
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := e.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		running = 0
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				running++
			}
		}
		pods = list.Items
		return running >= want, nil
	})
	if err != nil {
		return pods, fmt.Errorf("wait for %d running pods in %s (have %d; kwok log: %s): %w", want, ns, running, e.kwok.LogFile(), err)
	}
	return pods, nil
}

package nodemode

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/testenv"
)

// TestMovedPodTakesItsIdentityAlong moves a StatefulSet-like pod, one
// deleted and recreated under the same name, between two node pools: once
// deleted gracefully and created again when it is gone, then back,
// force-deleted and created again at once. Each time the identity leaves
// the old pool's VMSS and lands on the new one's, the assignment ends
// Assigned for the new pod's UID and node, and it never says Assigned for
// the new node before that VMSS holds the identity: it is a new assignment
// that goes Created, then Assigned.
//
// Pools 1 and 4: mic may manage them (pool 0 gets its role only in
// TestSeed004RoleAssignments), and the identity is one no other test puts
// on them.
func TestMovedPodTakesItsIdentityAlong(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const (
		pod, identity = "db-0", "many-18"
		poolA, poolB  = 1, 4
	)
	id := identityID(sharedRG, identity)
	ns := env.NewNamespace(t)
	// The test cluster runs no namespace controller, so deleting the
	// namespace leaves its pods running: delete the pod, and wait for the
	// identity to leave both pools, so that the next test or run starts
	// clean.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := env.Kube.CoreV1().Pods(ns).Delete(ctx, pod, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete pod %s: %v", pod, err)
		}
		waitStatuses(ctx, t, ns, 30*time.Second)
		waitOnPool(ctx, t, poolA, id, false)
		waitOnPool(ctx, t, poolB, id, false)
	})
	bindIdentity(ctx, t, ns, identity, "db")
	runPod(ctx, t, ns, pod, poolA, "db")
	waitStatuses(ctx, t, ns, 30*time.Second, identity+" Assigned AssignedToMachine")
	waitOnPool(ctx, t, poolA, id, true)

	// mic sees the pod go: its assignment is deleted, the identity leaves
	// pool A, and the new pod gets a new assignment on pool B.
	m := watchMove(ctx, t, ns, id, poolA, poolB, func() { deletePod(ctx, t, ns, pod) },
		func() { runPod(ctx, t, ns, pod, poolB, "db") })
	m.check(ctx, t, pod)

	// The pod is force-deleted and recreated at once, as after its node
	// failed: mic may see the old pod go, or find the old pod's assignment
	// when it first sees the new pod (then it replaces it; see
	// assign.madeForAnotherPod, whose table test covers that decision).
	// Either way the move must look the same from outside.
	m = watchMove(ctx, t, ns, id, poolB, poolA, func() {}, func() {
		forceDeletePod(ctx, t, ns, pod)
		runPodOnceGone(ctx, t, ns, pod, poolA, "db")
	})
	m.check(ctx, t, pod)
}

// move records one move of a pod's assignment between pools, as a watch of
// its namespace's assignments delivers it.
type move struct {
	ns, id   string
	from, to int
	// recreated is when the new pod was created.
	recreated time.Time

	mu sync.Mutex
	// seen summarises each event as "<event> <node> <uid> <status> <reason>
	// on-<to>=<bool>", the cloud read after the event arrived.
	seen []string
	// early lists events that said Assigned for the new node while its
	// VMSS did not hold the identity.
	early []string
	// assignedAt is when the first event saying Assigned for the new node
	// arrived.
	assignedAt time.Time
	// firstOnNew is the status of the first event for the new node.
	firstOnNew string
}

// watchMove watches the namespace's assignments while prepare and then
// recreate move the pod from pool from to pool to, until the move is
// complete: the assignment is Assigned on the new node, the identity is on
// pool to and has left pool from.
func watchMove(ctx context.Context, t *testing.T, ns, id string, from, to int, prepare, recreate func()) *move {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	var list podidv1.AzureAssignedIdentityList
	if err := wc.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx, &podidv1.AzureAssignedIdentityList{}, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
	if err != nil {
		t.Fatal(err)
	}
	m := &move{ns: ns, id: id, from: from, to: to}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			m.observe(ev)
		}
	}()
	defer func() { w.Stop(); <-done }()

	prepare()
	m.mu.Lock()
	m.recreated = time.Now()
	m.mu.Unlock()
	recreate()
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return !m.assignedAt.IsZero() && onPool(to, id) && !onPool(from, id), nil
	})
	if err != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		t.Fatalf("the move from %s to %s did not complete: on %s %v, on %s %v; Assigned before %s held the identity: %d times; events:\n  %s",
			poolName(from), poolName(to), poolName(from), onPool(from, id), poolName(to), onPool(to, id), poolName(to), len(m.early), strings.Join(m.seen, "\n  "))
	}
	return m
}

func (m *move) observe(ev watch.Event) {
	a, ok := ev.Object.(*podidv1.AzureAssignedIdentity)
	if !ok {
		return
	}
	// The cloud is read after the event arrived, so after the status was
	// written: a status that said Assigned before the VMSS held the
	// identity can be missed here, but one that did not is never blamed.
	on := onPool(m.to, m.id)
	reason := ""
	if c := meta.FindStatusCondition(a.Status.Conditions, assignstatus.ConditionReady); c != nil {
		reason = c.Reason
	}
	deleting := ""
	if a.DeletionTimestamp != nil {
		deleting = " (deleting)"
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	line := fmt.Sprintf("%s %s%s uid=%s %s %s on-%s=%v", ev.Type, a.Spec.NodeName, deleting,
		a.Annotations[podidv1.PodUIDAnnotation], a.Status.Status, reason, poolName(m.to), on)
	if !m.recreated.IsZero() {
		line += fmt.Sprintf(" +%s", now.Sub(m.recreated).Round(time.Millisecond))
	}
	m.seen = append(m.seen, line)
	if a.Spec.NodeName != env.Nodes[m.to].Name || ev.Type == watch.Deleted {
		return
	}
	if m.firstOnNew == "" {
		m.firstOnNew = a.Status.Status + " " + reason
	}
	if a.Status.Status == podidv1.AssignedIDAssigned {
		if !on {
			m.early = append(m.early, line)
		}
		if m.assignedAt.IsZero() {
			m.assignedAt = now
		}
	}
}

// check asserts what the move must have looked like and logs its figures.
func (m *move) check(ctx context.Context, t *testing.T, pod string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Logf("%s to %s: Assigned %s after the new pod was created; events:\n  %s", poolName(m.from), poolName(m.to),
		m.assignedAt.Sub(m.recreated).Round(time.Millisecond), strings.Join(m.seen, "\n  "))
	if len(m.early) > 0 {
		t.Errorf("the assignment said Assigned on the new node before %s held the identity:\n  %s", poolName(m.to), strings.Join(m.early, "\n  "))
	}
	if want := podidv1.AssignedIDCreated + " " + string(assignstatus.WaitingForCloudAssignment); m.firstOnNew != want {
		t.Errorf("the first status on the new node was %q, want %q: a new assignment, not the old one moved", m.firstOnNew, want)
	}
	p, err := env.Kube.CoreV1().Pods(m.ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var live podidv1.AzureAssignedIdentityList
	if err := env.Client.List(ctx, &live, client.InNamespace(m.ns)); err != nil {
		t.Fatal(err)
	}
	if len(live.Items) != 1 {
		t.Fatalf("%d assignments after the move, want 1", len(live.Items))
	}
	a := live.Items[0]
	if a.Spec.NodeName != env.Nodes[m.to].Name || a.Labels[podidv1.NodeNameLabel] != a.Spec.NodeName ||
		a.Annotations[podidv1.PodUIDAnnotation] != string(p.UID) || a.Status.Status != podidv1.AssignedIDAssigned {
		t.Errorf("after the move the assignment is for node %s (label %s), pod UID %s, status %s; want node %s, the new pod's UID %s, Assigned",
			a.Spec.NodeName, a.Labels[podidv1.NodeNameLabel], a.Annotations[podidv1.PodUIDAnnotation], a.Status.Status, env.Nodes[m.to].Name, p.UID)
	}
}

// deletePod deletes the pod and waits until it is gone, as a StatefulSet
// controller does before it creates the pod again.
func deletePod(ctx context.Context, t *testing.T, ns, name string) {
	t.Helper()
	if err := env.Kube.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod %s: %v", name, err)
	}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := env.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("pod %s is still there 30s after its deletion", name)
	}
}

// forceDeletePod deletes the pod without waiting for its node, as
// kubectl delete --force does.
func forceDeletePod(ctx context.Context, t *testing.T, ns, name string) {
	t.Helper()
	if err := env.Kube.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatalf("force-delete pod %s: %v", name, err)
	}
}

// runPodOnceGone creates the pod as soon as the old one of its name is
// gone, as a StatefulSet controller does.
func runPodOnceGone(ctx context.Context, t *testing.T, ns, name string, pool int, selector string) {
	t.Helper()
	p := testenv.Pod(testenv.PodSpec{Namespace: ns, Name: name, Node: env.Nodes[pool].Name, Labels: map[string]string{podidv1.SelectorLabel: selector}})
	err := wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := env.Client.Create(ctx, p.DeepCopy())
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("create pod %s again: %v", name, err)
	}
}

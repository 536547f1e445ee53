package cloudassign

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	podidv1 "github.com/podid/podid/api/v1"
)

// Cache indexes.
const (
	indexTarget  = "podid.cloud.target"  // nodes by machine ID (lower case)
	indexNode    = "podid.cloud.node"    // assignments by node name
	indexMachine = "podid.cloud.machine" // assignments by podidv1.MachineAnnotation (lower case)
)

// Controller routes node-mode AzureAssignedIdentity objects (those carrying
// the finalizer) to the worker of their node's machine, starting workers as
// machines appear.
type Controller struct {
	Client    client.Client
	Recorder  record.EventRecorder
	Machines  Machines
	Immutable []string
	Resync    time.Duration
	Clock     clock.Clock

	mu      sync.Mutex
	ctx     context.Context
	workers map[string]*Worker
}

var _ reconcile.Reconciler = &Controller{}

// Setup registers indexes, the controller and the workers' lifetime with mgr.
func (c *Controller) Setup(ctx context.Context, mgr ctrl.Manager) error {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	c.workers = map[string]*Worker{}
	fi := mgr.GetFieldIndexer()
	if err := fi.IndexField(ctx, &corev1.Node{}, indexTarget, func(o client.Object) []string {
		t, err := ParseProviderID(o.(*corev1.Node).Spec.ProviderID)
		if err != nil {
			return nil
		}
		return []string{strings.ToLower(t.ID)}
	}); err != nil {
		return fmt.Errorf("index nodes by machine: %w", err)
	}
	if err := fi.IndexField(ctx, &podidv1.AzureAssignedIdentity{}, indexNode, func(o client.Object) []string {
		return []string{o.(*podidv1.AzureAssignedIdentity).Spec.NodeName}
	}); err != nil {
		return fmt.Errorf("index assignments by node: %w", err)
	}
	if err := fi.IndexField(ctx, &podidv1.AzureAssignedIdentity{}, indexMachine, func(o client.Object) []string {
		if m := o.GetAnnotations()[podidv1.MachineAnnotation]; m != "" {
			return []string{strings.ToLower(m)}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("index assignments by machine: %w", err)
	}
	if err := mgr.Add(workerLifetime{c}); err != nil {
		return fmt.Errorf("add cloud workers: %w", err)
	}
	hasFinalizer := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return controllerutil.ContainsFinalizer(o, podidv1.AssignedIdentityFinalizer)
	})
	// Status writes, the worker's own among them, must not start bursts.
	specOrDeletion := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*podidv1.AzureAssignedIdentity)
		n, ok2 := e.ObjectNew.(*podidv1.AzureAssignedIdentity)
		return !ok1 || !ok2 || n.DeletionTimestamp != nil || !equality.Semantic.DeepEqual(o.Spec, n.Spec)
	}}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("cloudassign").
		For(&podidv1.AzureAssignedIdentity{}, builder.WithPredicates(hasFinalizer, specOrDeletion)).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: "node/" + o.GetName()}}}
		}), builder.WithPredicates(predicate.Funcs{UpdateFunc: machineChanged})).
		Complete(c)
	if err != nil {
		return fmt.Errorf("set up cloudassign controller: %w", err)
	}
	return nil
}

// workerLifetime gives workers the manager's context once this replica
// leads, and nothing before.
type workerLifetime struct{ c *Controller }

func (l workerLifetime) NeedLeaderElection() bool { return true }

func (l workerLifetime) Start(ctx context.Context) error {
	l.c.mu.Lock()
	l.c.ctx = ctx
	for _, w := range l.c.workers {
		go w.Run(ctx)
		w.Trigger()
	}
	l.c.mu.Unlock()
	<-ctx.Done()
	return nil
}

// Reconcile finds the machine of the assignment's (or node's) node and
// triggers its worker. An assignment whose node is gone goes to the
// machine it recorded (podidv1.MachineAnnotation).
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	nodeName, isNode := strings.CutPrefix(req.Name, "node/")
	var a podidv1.AzureAssignedIdentity
	if !isNode {
		if err := c.Client.Get(ctx, req.NamespacedName, &a); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		nodeName = a.Spec.NodeName
	}
	var node corev1.Node
	if err := c.Client.Get(ctx, types.NamespacedName{Name: nodeName}, &node); err != nil {
		if !apierrors.IsNotFound(err) || isNode {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		return reconcile.Result{}, c.nodeGone(ctx, &a)
	}
	t, err := ParseProviderID(node.Spec.ProviderID)
	if err != nil {
		if !isNode {
			log.FromContext(ctx).Info("node has no Azure machine; node-mode identity cannot be assigned", "node", nodeName, "reason", err.Error())
		}
		return reconcile.Result{}, nil
	}
	c.worker(t).Trigger()
	return reconcile.Result{}, nil
}

func (c *Controller) worker(t Target) *Worker {
	key := strings.ToLower(t.ID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.workers[key]; ok {
		return w
	}
	w := NewWorker(WorkerOptions{
		Target: t, Machines: c.Machines, Immutable: c.Immutable, Resync: c.Resync, Clock: c.Clock,
		Source: c.source, Report: c.report, Observe: observeCall(t),
	})
	c.workers[key] = w
	if c.ctx != nil {
		go w.Run(c.ctx)
	}
	return w
}

// source lists the node-mode assignments of every node on the machine.
func (c *Controller) source(ctx context.Context, t Target) (State, error) {
	assigned, err := c.assignmentsOn(ctx, t)
	if err != nil {
		return State{}, err
	}
	var s State
	for _, a := range assigned {
		id := resourceID(&a)
		if id == "" {
			continue
		}
		if a.DeletionTimestamp != nil {
			s.Releasing = append(s.Releasing, id)
		} else {
			s.Wanted = append(s.Wanted, id)
		}
	}
	return s, nil
}

// assignmentsOn lists the node-mode assignments on the machine's nodes,
// and those that recorded the machine and whose node is gone. The objects
// are the cache's own, not copies (every burst reads them all, and copying
// thousands of assignments per burst made most of mic's garbage in node
// mode): callers must copy one before changing it.
func (c *Controller) assignmentsOn(ctx context.Context, t Target) ([]podidv1.AzureAssignedIdentity, error) {
	var nodes corev1.NodeList
	if err := c.Client.List(ctx, &nodes, client.MatchingFields{indexTarget: strings.ToLower(t.ID)}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list nodes of %s: %w", t.Name, err)
	}
	var out []podidv1.AzureAssignedIdentity
	onNode := map[string]bool{}
	for _, n := range nodes.Items {
		onNode[n.Name] = true
		var list podidv1.AzureAssignedIdentityList
		if err := c.Client.List(ctx, &list, client.MatchingFields{indexNode: n.Name}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("list assignments on node %s: %w", n.Name, err)
		}
		for _, a := range list.Items {
			if controllerutil.ContainsFinalizer(&a, podidv1.AssignedIdentityFinalizer) {
				out = append(out, a)
			}
		}
	}
	var recorded podidv1.AzureAssignedIdentityList
	if err := c.Client.List(ctx, &recorded, client.MatchingFields{indexMachine: strings.ToLower(t.ID)}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list assignments recorded on %s: %w", t.Name, err)
	}
	for _, a := range recorded.Items {
		if onNode[a.Spec.NodeName] || !controllerutil.ContainsFinalizer(&a, podidv1.AssignedIdentityFinalizer) {
			continue
		}
		// A node of another machine now (its providerID was set late)
		// is that machine's; only a node that is gone leaves it here.
		err := c.Client.Get(ctx, types.NamespacedName{Name: a.Spec.NodeName}, &corev1.Node{})
		if apierrors.IsNotFound(err) {
			out = append(out, a)
		} else if err != nil {
			return nil, fmt.Errorf("read node %s: %w", a.Spec.NodeName, err)
		}
	}
	return out, nil
}

// nodeGone handles an assignment whose node no longer exists: the worker
// of the machine it recorded releases its identity; one that recorded no
// machine (made before podid recorded them, or never placed) is let go at
// once with a Warning naming what may be left on the machine.
func (c *Controller) nodeGone(ctx context.Context, a *podidv1.AzureAssignedIdentity) error {
	if m := a.Annotations[podidv1.MachineAnnotation]; m != "" {
		if t, err := ParseProviderID("azure://" + m); err == nil {
			c.worker(t).Trigger()
			return nil
		}
	}
	if a.DeletionTimestamp == nil || !controllerutil.ContainsFinalizer(a, podidv1.AssignedIdentityFinalizer) {
		return nil // its pod goes with the node, and mic deletes it then
	}
	next := a.DeepCopy()
	controllerutil.RemoveFinalizer(next, podidv1.AssignedIdentityFinalizer)
	if err := c.Client.Update(ctx, next); err != nil {
		return client.IgnoreNotFound(err)
	}
	c.warn(ctx, a, "NodeGone", nodeGoneMessage(a))
	return nil
}

func nodeGoneMessage(a *podidv1.AzureAssignedIdentity) string {
	return fmt.Sprintf("node %s no longer exists and AzureAssignedIdentity %s/%s recorded no machine, so podid cannot remove identity %s from the VM or scale set that held it; "+
		"if that machine still exists and no pod there needs the identity, remove it: az vmss identity remove -g <node resource group> -n <scale set> --identities %s (az vm identity remove for a VM)",
		a.Spec.NodeName, a.Namespace, a.Name, resourceID(a), resourceID(a))
}

func resourceID(a *podidv1.AzureAssignedIdentity) string {
	if a.Spec.AzureIdentityRef == nil {
		return ""
	}
	return a.Spec.AzureIdentityRef.Spec.ResourceID
}

// machineChanged reports whether a node update moved it to another machine
// (most often: the cloud provider set its providerID after it registered).
// Nodes are updated every few seconds for status and heartbeats; a burst
// for each would read every scale set from ARM again and again.
func machineChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*corev1.Node)
	n, ok2 := e.ObjectNew.(*corev1.Node)
	return !ok1 || !ok2 || o.Spec.ProviderID != n.Spec.ProviderID
}

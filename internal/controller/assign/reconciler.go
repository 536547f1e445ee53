package assign

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
)

// Reconciler keeps the AzureAssignedIdentity objects of each pod equal to
// Desired. Its key is a pod; bindings, identities, exceptions and the
// assignments themselves map to the pods they concern.
type Reconciler struct {
	Client   client.Client
	Recorder record.EventRecorder
	Clock    clock.PassiveClock
	// ClusterWide restores the old cross-namespace bindings.
	ClusterWide bool
	// DefaultTokenMode is podidv1.TokenModeFederated or TokenModeNode.
	DefaultTokenMode string
	// CloudAssignment is true when a cloud worker adds node-mode identities
	// to VMs and VMSS and removes the finalizer after clean-up. When false,
	// node-mode assignments stay Created and finalizers are not added.
	CloudAssignment bool
	// MaxConcurrentReconciles is how many pods are reconciled at once.
	MaxConcurrentReconciles int
}

var _ reconcile.Reconciler = &Reconciler{}

// Setup registers the indexes it uses and the controller with the manager.
func (r *Reconciler) Setup(ctx context.Context, mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = 16
	}
	if err := useIndexes(ctx, mgr, reconcilerIndexes...); err != nil {
		return err
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("assign").
		For(&corev1.Pod{}).
		Watches(&podidv1.AzureIdentityBinding{}, handler.EnqueueRequestsFromMapFunc(r.podsOfBinding)).
		Watches(&podidv1.AzureIdentity{}, handler.EnqueueRequestsFromMapFunc(r.podsOfIdentity)).
		Watches(&podidv1.AzurePodIdentityException{}, handler.EnqueueRequestsFromMapFunc(r.podsOfException)).
		// Deletions and spec edits by someone else need the pod looked at
		// again; status writes do not. So does a creation whose pod is not
		// in the cache, even this controller's own: it can reach the cache
		// after the pod's deletion was reconciled against a cache that did
		// not hold it yet (a write that timed out but landed, or the
		// assignment watch catching up later than the pod watch after an
		// API server outage), and nothing else would ever remove it. Other
		// creations are the pod's own reconcile at work and need no second.
		Watches(&podidv1.AzureAssignedIdentity{}, handler.EnqueueRequestsFromMapFunc(podOfAssignment),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc:  func(e event.CreateEvent) bool { return r.podMissing(ctx, e.Object) },
				UpdateFunc:  specChanged,
				DeleteFunc:  func(event.DeleteEvent) bool { return true },
				GenericFunc: func(event.GenericEvent) bool { return false },
			})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("set up assign controller: %w", err)
	}
	return nil
}

// Reconcile brings one pod's assignments to the desired state.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	in, err := r.gatherPod(ctx, req.NamespacedName)
	if err != nil {
		return reconcile.Result{}, err
	}
	res := Desired(in)
	var existing podidv1.AzureAssignedIdentityList
	if err := r.Client.List(ctx, &existing, client.MatchingFields{indexPod: req.Namespace + "/" + req.Name}); err != nil {
		return reconcile.Result{}, fmt.Errorf("list assignments of pod %s: %w", req.NamespacedName, err)
	}
	have := map[string]*podidv1.AzureAssignedIdentity{}
	for i := range existing.Items {
		a := &existing.Items[i]
		have[a.Namespace+"/"+a.Name] = a
	}
	var errs []error
	for _, a := range res.Desired {
		errs = append(errs, r.ensure(ctx, a, have[a.Key()]))
		delete(have, a.Key())
	}
	for _, stale := range have {
		errs = append(errs, r.remove(ctx, stale))
	}
	if len(in.Pods) == 1 {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: req.Namespace, Name: req.Name, UID: types.UID(in.Pods[0].UID)}}
		for _, f := range res.Findings {
			if f.Object.Kind == "Pod" {
				r.Recorder.Event(pod, string(f.Severity), f.Reason, f.Message)
			}
		}
	}
	return resultOf(errs)
}

// ensure creates or updates one assignment, status included: the
// AzureAssignedIdentity CRD has no status subresource, so each change is a
// single write.
func (r *Reconciler) ensure(ctx context.Context, a Assignment, have *podidv1.AzureAssignedIdentity) error {
	needsCloud := a.Identity.NeedsCloudAssignment(r.DefaultTokenMode)
	want := build(a, a.Identity.TokenMode(r.DefaultTokenMode), needsCloud && r.CloudAssignment)
	now := metav1.NewTime(r.Clock.Now())
	wantMode := want.Spec.TokenMode
	if have == nil {
		want.Status = assignstatus.Initial(want.Status, needsCloud, now)
		if err := r.Client.Create(ctx, want); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return errConflict // the cache is behind; try again
			}
			return fmt.Errorf("create AzureAssignedIdentity %s/%s: %w", want.Namespace, want.Name, err)
		}
		if err := prunedByOlderCRD(want, wantMode); err != nil {
			return err
		}
		log.FromContext(ctx).V(1).Info("created assignment", "azureassignedidentity", a.Key(), "identity", a.Identity.Namespace+"/"+a.Identity.Name)
		if want.Status.Status == podidv1.AssignedIDAssigned {
			observeReady(a.Pod, want, r.Clock.Now())
		}
		return nil
	}
	if have.DeletionTimestamp != nil {
		return errBeingRemoved
	}
	if why := madeForAnotherPod(have, a.Pod); why != "" {
		// Never moved in place: see madeForAnotherPod.
		if err := r.remove(ctx, have); err != nil {
			return fmt.Errorf("replace AzureAssignedIdentity %s: %w", a.Key(), err)
		}
		log.FromContext(ctx).V(1).Info("replacing assignment made for an earlier pod", "azureassignedidentity", a.Key(), "why", why)
		return errBeingRemoved
	}
	next := have.DeepCopy()
	if specOutdated(have, want) {
		next.Spec, next.Labels = want.Spec, want.Labels
		if uid, ok := want.Annotations[podidv1.PodUIDAnnotation]; ok {
			metav1.SetMetaDataAnnotation(&next.ObjectMeta, podidv1.PodUIDAnnotation, uid)
		}
		if want.Finalizers != nil {
			controllerutil.AddFinalizer(next, podidv1.AssignedIdentityFinalizer)
		}
	}
	// The status is this reconciler's only until the cloud worker takes
	// it over: see assignstatus.Owner.
	next.Status = assignstatus.Initial(have.Status, needsCloud, now)
	if equality.Semantic.DeepEqual(next, have) {
		return nil
	}
	if err := r.Client.Update(ctx, next); err != nil {
		return fmt.Errorf("update AzureAssignedIdentity %s: %w", a.Key(), err)
	}
	if err := prunedByOlderCRD(next, wantMode); err != nil {
		return err
	}
	if next.Status.Status == podidv1.AssignedIDAssigned && have.Status.Status != podidv1.AssignedIDAssigned {
		observeReady(a.Pod, next, r.Clock.Now())
	}
	return nil
}

// remove deletes an assignment no pod needs. With a cloud worker and a
// finalizer, the worker unassigns the identity and lets the object go.
func (r *Reconciler) remove(ctx context.Context, a *podidv1.AzureAssignedIdentity) error {
	if !r.CloudAssignment && controllerutil.RemoveFinalizer(a, podidv1.AssignedIdentityFinalizer) {
		if err := r.Client.Update(ctx, a); err != nil {
			return fmt.Errorf("drop finalizer of AzureAssignedIdentity %s/%s: %w", a.Namespace, a.Name, err)
		}
	}
	if a.DeletionTimestamp != nil {
		return nil
	}
	if err := r.Client.Delete(ctx, a); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete AzureAssignedIdentity %s/%s: %w", a.Namespace, a.Name, err)
	}
	log.FromContext(ctx).V(1).Info("deleted assignment", "azureassignedidentity", a.Namespace+"/"+a.Name)
	return nil
}

// prunedByOlderCRD explains an assignment the API server stored without
// the token mode mic wrote: the AzureAssignedIdentity CRD is an older
// aad-pod-identity's (helm install keeps existing CRDs), whose schema
// prunes every field it does not declare. The error goes back to the work
// queue, which retries with back-off until podid's CRDs are applied.
func prunedByOlderCRD(stored *podidv1.AzureAssignedIdentity, wantMode string) error {
	if wantMode == "" || stored.Spec.TokenMode != "" {
		return nil
	}
	return fmt.Errorf("the API server dropped spec.tokenMode from AzureAssignedIdentity %s/%s: the CRD azureassignedidentities.aadpodidentity.k8s.io is an older aad-pod-identity's, "+
		"which prunes the fields podid writes, so the node agent falls back to deciding the token mode itself. "+
		"Apply podid's CRDs (helm install and upgrade never change existing CRDs): kubectl apply -f config/crd, or charts/podid/crds of the chart",
		stored.Namespace, stored.Name)
}

// errConflict means the cache is behind the API server; the pod is simply
// reconciled again.
var errConflict = errors.New("cache behind the API server")

// errBeingRemoved means an assignment of the pod is being deleted (its
// finalizer waits for the cloud worker) and the new one can only be created
// once it is gone. Its deletion event requeues the pod; the pod is also
// looked at again every removalPoll, so that the new assignment never
// hangs on one event, and never waits out the rate limiter's growing
// back-off meanwhile.
var errBeingRemoved = errors.New("an assignment of the pod is being removed")

// removalPoll is how often a pod waiting for errBeingRemoved is looked at.
const removalPoll = 500 * time.Millisecond

// resultOf requeues quietly when every error is a conflict, and returns the
// others so the work queue backs off and the manager logs them.
func resultOf(errs []error) (reconcile.Result, error) {
	var real []error
	conflict, removing := false, false
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, errBeingRemoved):
			removing = true
		case errors.Is(err, errConflict) || apierrors.IsConflict(err):
			conflict = true
		default:
			real = append(real, err)
		}
	}
	switch {
	case len(real) > 0:
		return reconcile.Result{}, errors.Join(real...)
	case conflict:
		return reconcile.Result{Requeue: true}, nil
	case removing:
		return reconcile.Result{RequeueAfter: removalPoll}, nil
	}
	return reconcile.Result{}, nil
}

// podMissing reports whether the cache holds no pod for assignment o.
func (r *Reconciler) podMissing(ctx context.Context, o client.Object) bool {
	a, ok := o.(*podidv1.AzureAssignedIdentity)
	if !ok || a.Spec.Pod == "" {
		return false
	}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: a.Spec.PodNamespace, Name: a.Spec.Pod}, &corev1.Pod{})
	return apierrors.IsNotFound(err)
}

// specChanged reports whether someone changed what an assignment grants;
// status writes, this controller's and the cloud worker's, do not count.
func specChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*podidv1.AzureAssignedIdentity)
	n, ok2 := e.ObjectNew.(*podidv1.AzureAssignedIdentity)
	return !ok1 || !ok2 || !equality.Semantic.DeepEqual(o.Spec, n.Spec) || o.Labels[podidv1.NodeNameLabel] != n.Labels[podidv1.NodeNameLabel]
}

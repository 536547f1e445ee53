package assign

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	podidv1 "github.com/podid/podid/api/v1"
)

// Binding condition type and reasons (AzureIdentityBinding status; the
// AzureAssignedIdentity status belongs to package assignstatus).
const (
	// conditionBindingReady says whether the binding's identity exists.
	conditionBindingReady = "Ready"
	// ReasonBindingReady: the binding names an existing identity.
	ReasonBindingReady = "IdentityFound"
)

// BindingReconciler explains each binding: a Ready condition saying whether
// its identity exists, and Warning events for the findings of Desired that
// concern it (missing identity, overlapping selectors).
type BindingReconciler struct {
	Client   client.Client
	Recorder record.EventRecorder
	Clock    clock.PassiveClock
}

var _ reconcile.Reconciler = &BindingReconciler{}

// Setup registers the indexes it uses, whether or not Reconciler.Setup
// registered them too, and the controller with the manager.
func (r *BindingReconciler) Setup(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	// Adding an index only creates the informer; nothing waits on ctx.
	if err := useIndexes(context.Background(), mgr, bindingIndexes...); err != nil {
		return err
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("binding").
		For(&podidv1.AzureIdentityBinding{}).
		Watches(&podidv1.AzureIdentity{}, handler.EnqueueRequestsFromMapFunc(r.bindingsOfIdentity)).
		Complete(r)
	if err != nil {
		return fmt.Errorf("set up binding controller: %w", err)
	}
	return nil
}

func (r *BindingReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var b podidv1.AzureIdentityBinding
	if err := r.Client.Get(ctx, req.NamespacedName, &b); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if b.DeletionTimestamp != nil || b.Spec.Selector == "" {
		return reconcile.Result{}, nil
	}
	var peers podidv1.AzureIdentityBindingList
	if err := r.Client.List(ctx, &peers, client.InNamespace(b.Namespace), client.MatchingFields{indexSelector: b.Spec.Selector}); err != nil {
		return reconcile.Result{}, fmt.Errorf("list bindings sharing selector %q: %w", b.Spec.Selector, err)
	}
	in := Input{Bindings: peers.Items}
	for _, p := range peers.Items {
		var id podidv1.AzureIdentity
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: p.Spec.AzureIdentity}, &id)
		if err == nil {
			in.Identities = append(in.Identities, id)
		} else if client.IgnoreNotFound(err) != nil {
			return reconcile.Result{}, fmt.Errorf("get AzureIdentity %s/%s: %w", p.Namespace, p.Spec.AzureIdentity, err)
		}
	}
	cond := metav1.Condition{
		Type: conditionBindingReady, Status: metav1.ConditionTrue, Reason: ReasonBindingReady,
		Message:            fmt.Sprintf("Pods of namespace %s labelled %s=%s get identity %s.", b.Namespace, podidv1.SelectorLabel, b.Spec.Selector, b.Spec.AzureIdentity),
		ObservedGeneration: b.Generation,
		LastTransitionTime: metav1.NewTime(r.Clock.Now()),
	}
	for _, f := range Desired(in).Findings {
		if f.Object != (ObjectRef{Kind: podidv1.KindAzureIdentityBinding, Namespace: b.Namespace, Name: b.Name}) {
			continue
		}
		r.Recorder.Event(&b, string(f.Severity), f.Reason, f.Message)
		if f.Reason == ReasonIdentityNotFound {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, f.Reason, f.Message
		}
	}
	status := *b.Status.DeepCopy()
	meta.SetStatusCondition(&status.Conditions, cond) // keeps LastTransitionTime unless the status flips
	if equality.Semantic.DeepEqual(status, b.Status) {
		return reconcile.Result{}, nil
	}
	b.Status = status
	if err := r.Client.Status().Update(ctx, &b); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	return reconcile.Result{}, nil
}

func (r *BindingReconciler) bindingsOfIdentity(ctx context.Context, o client.Object) []reconcile.Request {
	var bindings podidv1.AzureIdentityBindingList
	if err := r.Client.List(ctx, &bindings, client.MatchingFields{indexIdentity: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(bindings.Items))
	for _, b := range bindings.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&b)})
	}
	return out
}

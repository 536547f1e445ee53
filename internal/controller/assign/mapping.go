package assign

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	podidv1 "github.com/podid/podid/api/v1"
)

// podsOfBinding returns the pods labelled with the binding's selector: in
// its namespace, or everywhere with cluster-wide bindings. controller-runtime
// calls it with the old and the new object on update, so pods that lose a
// binding to a selector change are reconciled too.
func (r *Reconciler) podsOfBinding(ctx context.Context, o client.Object) []reconcile.Request {
	b, ok := o.(*podidv1.AzureIdentityBinding)
	if !ok || b.Spec.Selector == "" {
		return nil
	}
	opts := []client.ListOption{client.MatchingFields{indexSelector: b.Spec.Selector}}
	if !r.ClusterWide {
		opts = append(opts, client.InNamespace(b.Namespace))
	}
	return r.listPods(ctx, opts...)
}

// podsOfIdentity returns the pods of every binding naming the identity.
func (r *Reconciler) podsOfIdentity(ctx context.Context, o client.Object) []reconcile.Request {
	var bindings podidv1.AzureIdentityBindingList
	if err := r.Client.List(ctx, &bindings, client.MatchingFields{indexIdentity: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "list bindings of identity", "azureidentity", client.ObjectKeyFromObject(o))
		return nil
	}
	var out []reconcile.Request
	for i := range bindings.Items {
		out = append(out, r.podsOfBinding(ctx, &bindings.Items[i])...)
	}
	return out
}

// podsOfException returns the labelled pods of the exception's namespace.
func (r *Reconciler) podsOfException(ctx context.Context, o client.Object) []reconcile.Request {
	return r.listPods(ctx, client.InNamespace(o.GetNamespace()), client.HasLabels{podidv1.SelectorLabel})
}

func podOfAssignment(_ context.Context, o client.Object) []reconcile.Request {
	a, ok := o.(*podidv1.AzureAssignedIdentity)
	if !ok || a.Spec.Pod == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: a.Spec.PodNamespace, Name: a.Spec.Pod}}}
}

func (r *Reconciler) listPods(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var pods corev1.PodList
	if err := r.Client.List(ctx, &pods, opts...); err != nil {
		log.FromContext(ctx).Error(err, "list pods to reconcile")
		return nil
	}
	out := make([]reconcile.Request, 0, len(pods.Items))
	for _, p := range pods.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
	return out
}

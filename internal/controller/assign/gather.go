package assign

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
)

// gatherPod builds the decision input for one pod from the cache: the pod,
// the bindings sharing its selector, the identities named by those that can
// serve it and the exceptions of its namespace. A missing pod gives an empty
// input, so every assignment of a deleted pod is undesired.
func (r *Reconciler) gatherPod(ctx context.Context, key types.NamespacedName) (Input, error) {
	in := Input{ClusterWide: r.ClusterWide}
	var pod corev1.Pod
	if err := r.Client.Get(ctx, key, &pod); err != nil {
		if apierrors.IsNotFound(err) {
			return in, nil
		}
		return in, fmt.Errorf("get pod %s: %w", key, err)
	}
	in.Pods = []Pod{PodFrom(&pod)}
	sel := pod.Labels[podidv1.SelectorLabel]
	if sel == "" {
		return in, nil
	}
	var bindings podidv1.AzureIdentityBindingList
	if err := r.Client.List(ctx, &bindings, client.MatchingFields{indexSelector: sel}); err != nil {
		return in, fmt.Errorf("list bindings with selector %q: %w", sel, err)
	}
	in.Bindings = bindings.Items
	seen := map[types.NamespacedName]bool{}
	for _, b := range bindings.Items {
		idKey := types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.AzureIdentity}
		if seen[idKey] || (!r.ClusterWide && b.Namespace != pod.Namespace) {
			// A binding of another namespace cannot serve the pod; Desired
			// only names it, and the binding controller reports on it.
			continue
		}
		seen[idKey] = true
		var id podidv1.AzureIdentity
		if err := r.Client.Get(ctx, idKey, &id); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return in, fmt.Errorf("get AzureIdentity %s: %w", idKey, err)
		}
		in.Identities = append(in.Identities, id)
	}
	var exceptions podidv1.AzurePodIdentityExceptionList
	if err := r.Client.List(ctx, &exceptions, client.InNamespace(pod.Namespace)); err != nil {
		return in, fmt.Errorf("list exceptions in %s: %w", pod.Namespace, err)
	}
	in.Exceptions = exceptions.Items
	return in, nil
}

// PodFrom is what the decision reads of a pod; mic and podid doctor build
// the Input from it alike.
func PodFrom(p *corev1.Pod) Pod {
	return Pod{
		Namespace:   p.Namespace,
		Name:        p.Name,
		UID:         string(p.UID),
		NodeName:    p.Spec.NodeName,
		Labels:      p.Labels,
		HostNetwork: p.Spec.HostNetwork,
		Phase:       p.Status.Phase,
		Deleting:    p.DeletionTimestamp != nil,
		Created:     p.CreationTimestamp.Time,
	}
}

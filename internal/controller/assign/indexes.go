package assign

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
)

// Cache indexes, so that a change touches only the objects it concerns
// instead of scanning every pod.
const (
	// indexSelector: pods by their aadpodidbinding label; bindings by selector.
	indexSelector = "podid.selector"
	// indexIdentity: bindings by the identity they name (namespace/name).
	indexIdentity = "podid.identity"
	// indexPod: assignments by their pod (namespace/name).
	indexPod = "podid.pod"
)

func setupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	fi := mgr.GetFieldIndexer()
	add := []struct {
		obj client.Object
		key string
		fn  client.IndexerFunc
	}{
		{&corev1.Pod{}, indexSelector, func(o client.Object) []string {
			if v := o.GetLabels()[podidv1.SelectorLabel]; v != "" {
				return []string{v}
			}
			return nil
		}},
		{&podidv1.AzureIdentityBinding{}, indexSelector, func(o client.Object) []string {
			if s := o.(*podidv1.AzureIdentityBinding).Spec.Selector; s != "" {
				return []string{s}
			}
			return nil
		}},
		{&podidv1.AzureIdentityBinding{}, indexIdentity, func(o client.Object) []string {
			b := o.(*podidv1.AzureIdentityBinding)
			return []string{b.Namespace + "/" + b.Spec.AzureIdentity}
		}},
		{&podidv1.AzureAssignedIdentity{}, indexPod, func(o client.Object) []string {
			a := o.(*podidv1.AzureAssignedIdentity)
			return []string{a.Spec.PodNamespace + "/" + a.Spec.Pod}
		}},
	}
	for _, a := range add {
		if err := fi.IndexField(ctx, a.obj, a.key, a.fn); err != nil {
			return fmt.Errorf("index %T by %s: %w", a.obj, a.key, err)
		}
	}
	return nil
}

package controller

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/kubeclient"
)

// CacheOptions keep mic's memory proportional to what it decides on:
// only pods that carry the aadpodidbinding label are cached (a pod that
// loses it looks deleted, which is exactly what its assignments need),
// cached pods keep only the fields the decision reads, and no object keeps
// its managedFields.
func CacheOptions() cache.Options {
	hasSelector, err := labels.NewRequirement(podidv1.SelectorLabel, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant label key cannot be invalid
	}
	return cache.Options{
		// After an API server outage, watches come back within seconds
		// instead of after client-go's back-off (see kubeclient.Reconnect).
		NewInformer: func(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, idx toolscache.Indexers) toolscache.SharedIndexInformer {
			return toolscache.NewSharedIndexInformer(kubeclient.Reconnect(lw), obj, resync, idx)
		},
		DefaultTransform: toolscache.TransformFunc(stripManagedFields),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {
				Label:     labels.NewSelector().Add(*hasSelector),
				Transform: trimPod,
			},
		},
	}
}

func stripManagedFields(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// trimPod keeps what assign.Desired and the events need of a pod.
func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Labels: p.Labels, CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec:   corev1.PodSpec{NodeName: p.Spec.NodeName, HostNetwork: p.Spec.HostNetwork, ServiceAccountName: p.Spec.ServiceAccountName},
		Status: corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP},
	}, nil
}

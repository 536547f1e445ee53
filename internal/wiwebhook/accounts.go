package wiwebhook

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// accountCache answers from an informer's cache and, on a miss, from the
// API server: a ServiceAccount created just before its pod may not have
// reached the cache yet (v1.6 reads through the same way).
type accountCache struct {
	kube    kubernetes.Interface
	factory informers.SharedInformerFactory
	lister  corelisters.ServiceAccountLister
	synced  cache.InformerSynced
}

var _ ServiceAccountGetter = (*accountCache)(nil)

func newAccountCache(kube kubernetes.Interface, resync time.Duration) *accountCache {
	factory := informers.NewSharedInformerFactory(kube, resync)
	inf := factory.Core().V1().ServiceAccounts()
	return &accountCache{kube: kube, factory: factory, lister: inf.Lister(), synced: inf.Informer().HasSynced}
}

func (a *accountCache) start(ctx context.Context) { a.factory.Start(ctx.Done()) }

func (a *accountCache) GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	if a.synced() {
		sa, err := a.lister.ServiceAccounts(namespace).Get(name)
		if !apierrors.IsNotFound(err) {
			return sa, err
		}
	}
	return a.kube.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
}

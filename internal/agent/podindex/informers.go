package podindex

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	v1 "github.com/podid/podid/api/v1"
)

// Options configure New.
type Options struct {
	// NodeName is this node; only its pods and assignments are watched.
	NodeName string
	// Resync re-delivers every cached object this often; 0 disables it
	// (watches deliver every change as it happens).
	Resync time.Duration
	// OnIdentityGone is called with an identity's key when the last
	// assignment of this node naming it is deleted or becomes Unassigned,
	// so its cached tokens can be evicted. Optional.
	OnIdentityGone func(identityKey string)
}

// Informers are the watches behind an Index.
type Informers struct {
	*Index
	informers []cache.SharedIndexInformer
}

// NewCRDClient returns a REST client for the aadpodidentity.k8s.io/v1 API.
func NewCRDClient(cfg *rest.Config) (rest.Interface, error) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register API types: %w", err)
	}
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &v1.GroupVersion
	c.APIPath = "/apis"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("build aadpodidentity client: %w", err)
	}
	return rc, nil
}

// New builds the informers of this node and the Index over them. Call
// Start, then WaitForSync before serving.
func New(kube kubernetes.Interface, crd rest.Interface, opts Options) (*Informers, error) {
	if opts.NodeName == "" {
		return nil, errors.New("pod index needs the node name")
	}
	pods := cache.NewSharedIndexInformer(
		cache.NewListWatchFromClient(kube.CoreV1().RESTClient(), "pods", metav1.NamespaceAll,
			fields.OneTermEqualSelector("spec.nodeName", opts.NodeName)),
		&corev1.Pod{}, opts.Resync, podIndexers())
	assigned := cache.NewSharedIndexInformer(
		cache.NewFilteredListWatchFromClient(crd, "azureassignedidentities", metav1.NamespaceAll, func(o *metav1.ListOptions) {
			o.LabelSelector = labels.SelectorFromSet(labels.Set{v1.NodeNameLabel: opts.NodeName}).String()
		}),
		&v1.AzureAssignedIdentity{}, opts.Resync, assignedIndexers())
	exceptions := cache.NewSharedIndexInformer(
		cache.NewListWatchFromClient(crd, "azurepodidentityexceptions", metav1.NamespaceAll, fields.Everything()),
		&v1.AzurePodIdentityException{}, opts.Resync, exceptionIndexers())

	x := &Index{pods: pods.GetIndexer(), assigned: assigned.GetIndexer(), exceptions: exceptions.GetIndexer()}
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { x.changes.Notify() },
		UpdateFunc: func(any, any) { x.changes.Notify() },
		DeleteFunc: func(any) { x.changes.Notify() },
	}
	for _, inf := range []cache.SharedIndexInformer{pods, exceptions} {
		if _, err := inf.AddEventHandler(notify); err != nil {
			return nil, fmt.Errorf("watch changes: %w", err)
		}
	}
	if _, err := assigned.AddEventHandler(assignmentHandler(x, opts.OnIdentityGone)); err != nil {
		return nil, fmt.Errorf("watch assignments: %w", err)
	}
	return &Informers{Index: x, informers: []cache.SharedIndexInformer{pods, assigned, exceptions}}, nil
}

// assignmentHandler wakes waiters and reports identities no longer used.
func assignmentHandler(x *Index, gone func(string)) cache.ResourceEventHandler {
	check := func(obj any) {
		if gone == nil {
			return
		}
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		a, ok := obj.(*v1.AzureAssignedIdentity)
		if !ok || a.Spec.AzureIdentityRef == nil {
			return
		}
		key := toAssigned(a).Identity.Key()
		if !x.identityLive(key) {
			gone(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { x.changes.Notify() },
		UpdateFunc: func(_, obj any) {
			x.changes.Notify()
			if a, ok := obj.(*v1.AzureAssignedIdentity); ok && a.Status.Status == v1.AssignedIDUnassigned {
				check(obj)
			}
		},
		DeleteFunc: func(obj any) {
			x.changes.Notify()
			check(obj)
		},
	}
}

// identityLive reports whether an assignment not being removed still names
// the identity.
func (x *Index) identityLive(key string) bool {
	objs, err := x.assigned.ByIndex(byIdentity, key)
	if err != nil {
		return false
	}
	for _, o := range objs {
		if a, ok := o.(*v1.AzureAssignedIdentity); ok && a.Status.Status != v1.AssignedIDUnassigned {
			return true
		}
	}
	return false
}

// Start runs the informers until ctx ends.
func (i *Informers) Start(ctx context.Context) {
	for _, inf := range i.informers {
		go inf.RunWithContext(ctx)
	}
}

// HasSynced reports whether every informer has its initial list.
func (i *Informers) HasSynced() bool {
	for _, inf := range i.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// WaitForSync blocks until the informers have synced or ctx ends.
func (i *Informers) WaitForSync(ctx context.Context) error {
	syncs := make([]cache.InformerSynced, len(i.informers))
	for n, inf := range i.informers {
		syncs[n] = inf.HasSynced
	}
	if !cache.WaitForCacheSync(ctx.Done(), syncs...) {
		return fmt.Errorf("wait for pod and assignment caches: %w", context.Cause(ctx))
	}
	return nil
}

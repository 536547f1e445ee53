package podindex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/tokens"
)

// Options configure New.
type Options struct {
	// NodeName is this node; only its pods and assignments are watched.
	NodeName string
	// Resync re-delivers every cached object this often; 0 disables it
	// (watches deliver every change as it happens).
	Resync time.Duration
	// OnIdentityGone is called with an identity's key (tokens.Identity.Key)
	// when the last assignment of this node using it is deleted or becomes
	// Unassigned, or when its AzureIdentity is edited into another
	// principal or deleted, so its cached tokens can be evicted. Optional.
	OnIdentityGone func(identityKey tokens.IdentityKey)
	// ClusterWideBindings must match the controller's
	// --cluster-wide-bindings: with it, an assignment from a binding of
	// another namespace is honoured (v1.BindingServes). False, the
	// default, honours only bindings of the pod's own namespace.
	ClusterWideBindings bool
	// KubeletDir is the kubelet's --root-dir on this node, where it writes
	// workload-identity pods' projected tokens; empty means
	// DefaultKubeletDir.
	KubeletDir string
	// Logger receives a debug record for each ignored assignment; nil uses
	// slog.Default().
	Logger *slog.Logger
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
// Start, then WaitForSync before serving. Their lists and watches retry
// refused connections every few seconds (reconnecting), so the caches
// catch up soon after an API server outage.
func New(kube kubernetes.Interface, crd rest.Interface, opts Options) (*Informers, error) {
	if opts.NodeName == "" {
		return nil, errors.New("pod index needs the node name")
	}
	pods := cache.NewSharedIndexInformer(
		kubeclient.Reconnect(cache.NewListWatchFromClient(kube.CoreV1().RESTClient(), "pods", metav1.NamespaceAll,
			fields.OneTermEqualSelector("spec.nodeName", opts.NodeName))),
		&corev1.Pod{}, opts.Resync, podIndexers())
	assigned := cache.NewSharedIndexInformer(
		kubeclient.Reconnect(cache.NewFilteredListWatchFromClient(crd, "azureassignedidentities", metav1.NamespaceAll, func(o *metav1.ListOptions) {
			o.LabelSelector = labels.SelectorFromSet(labels.Set{v1.NodeNameLabel: opts.NodeName}).String()
		})),
		&v1.AzureAssignedIdentity{}, opts.Resync, assignedIndexers())
	exceptions := cache.NewSharedIndexInformer(
		kubeclient.Reconnect(cache.NewListWatchFromClient(crd, "azurepodidentityexceptions", metav1.NamespaceAll, fields.Everything())),
		&v1.AzurePodIdentityException{}, opts.Resync, exceptionIndexers())

	bindings := cache.NewSharedIndexInformer(
		kubeclient.Reconnect(cache.NewListWatchFromClient(crd, "azureidentitybindings", metav1.NamespaceAll, fields.Everything())),
		&v1.AzureIdentityBinding{}, opts.Resync, noIndexers())
	identities := cache.NewSharedIndexInformer(
		kubeclient.Reconnect(cache.NewListWatchFromClient(crd, "azureidentities", metav1.NamespaceAll, fields.Everything())),
		&v1.AzureIdentity{}, opts.Resync, noIndexers())
	x := &Index{pods: pods.GetIndexer(), assigned: assigned.GetIndexer(), exceptions: exceptions.GetIndexer(),
		bindings: bindings.GetIndexer(), identities: identities.GetIndexer(),
		clusterWide: opts.ClusterWideBindings, kubeletDir: opts.KubeletDir, log: opts.Logger}
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { x.changes.Notify() },
		UpdateFunc: func(any, any) { x.changes.Notify() },
		DeleteFunc: func(any) { x.changes.Notify() },
	}
	for _, inf := range []cache.SharedIndexInformer{pods, exceptions, bindings} {
		if _, err := inf.AddEventHandler(notify); err != nil {
			return nil, fmt.Errorf("watch changes: %w", err)
		}
	}
	if _, err := assigned.AddEventHandler(assignmentHandler(x, opts.OnIdentityGone)); err != nil {
		return nil, fmt.Errorf("watch assignments: %w", err)
	}
	if _, err := identities.AddEventHandler(identityHandler(x, opts.OnIdentityGone)); err != nil {
		return nil, fmt.Errorf("watch identities: %w", err)
	}
	return &Informers{Index: x, informers: []cache.SharedIndexInformer{pods, assigned, exceptions, bindings, identities}}, nil
}

// assignmentHandler wakes waiters and reports identities no longer used.
func assignmentHandler(x *Index, gone func(tokens.IdentityKey)) cache.ResourceEventHandler {
	check := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		a, ok := obj.(*v1.AzureAssignedIdentity)
		if !ok || gone == nil || a.Spec.AzureIdentityRef == nil {
			return
		}
		id := x.identityOf(a)
		key := toIdentity(a, id).Key()
		if !x.identityUsed(id, key) {
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
			if a, ok := deleted[*v1.AzureAssignedIdentity](obj); ok {
				x.forget(a.Namespace + "/" + a.Name)
			}
			check(obj)
		},
	}
}

// identityHandler wakes waiters and, when an AzureIdentity is edited into
// another principal or deleted, reports the keys its assignments of this
// node used, so tokens of its old self are not served from the cache.
func identityHandler(x *Index, gone func(tokens.IdentityKey)) cache.ResourceEventHandler {
	report := func(old, cur *v1.AzureIdentity) {
		if gone == nil || old == nil {
			return
		}
		objs, err := x.assigned.ByIndex(byIdentity, old.Namespace+"/"+old.Name)
		if err != nil {
			return
		}
		done := map[tokens.IdentityKey]bool{}
		for _, o := range objs {
			a, ok := o.(*v1.AzureAssignedIdentity)
			if !ok {
				continue
			}
			key := toIdentity(a, old).Key()
			if done[key] || (cur != nil && toIdentity(a, cur).Key() == key) {
				continue
			}
			done[key] = true
			gone(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { x.changes.Notify() },
		UpdateFunc: func(oldObj, obj any) {
			x.changes.Notify()
			old, _ := oldObj.(*v1.AzureIdentity)
			cur, _ := obj.(*v1.AzureIdentity)
			report(old, cur)
		},
		DeleteFunc: func(obj any) {
			x.changes.Notify()
			old, _ := deleted[*v1.AzureIdentity](obj)
			report(old, nil)
		},
	}
}

// deleted unwraps the object of a delete event.
func deleted[T any](obj any) (T, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	t, ok := obj.(T)
	return t, ok
}

// identityOf is the live AzureIdentity assignment a names or, when it is
// gone, the assignment's copy: the identity whose tokens were cached.
func (x *Index) identityOf(a *v1.AzureAssignedIdentity) *v1.AzureIdentity {
	ref := a.Spec.AzureIdentityRef
	if id, ok := get[*v1.AzureIdentity](x.identities, ref.Namespace+"/"+ref.Name); ok {
		return id
	}
	return ref
}

// identityUsed reports whether an assignment not being removed still uses
// identity id with this key.
func (x *Index) identityUsed(id *v1.AzureIdentity, key tokens.IdentityKey) bool {
	objs, err := x.assigned.ByIndex(byIdentity, id.Namespace+"/"+id.Name)
	if err != nil {
		return false
	}
	for _, o := range objs {
		if a, ok := o.(*v1.AzureAssignedIdentity); ok && a.Status.Status != v1.AssignedIDUnassigned &&
			toIdentity(a, id).Key() == key {
			return true
		}
	}
	return false
}

// Pods is the watch of this node's pods, for other users of the same
// pods (the agent's per-pod rules) to share rather than open a second.
func (i *Informers) Pods() cache.SharedIndexInformer { return i.informers[0] }

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
		return fmt.Errorf("wait for pod, assignment, exception, binding and identity caches: %w", context.Cause(ctx))
	}
	return nil
}

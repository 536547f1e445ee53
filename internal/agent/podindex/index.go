package podindex

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/broadcast"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/wi"
)

// Index answers the token server's questions from five caches.
type Index struct {
	pods       cache.Indexer
	assigned   cache.Indexer
	exceptions cache.Indexer
	bindings   cache.Indexer
	identities cache.Indexer
	changes    broadcast.Broadcast
	// clusterWide is the controller's cluster-wide bindings option, for
	// v1.BindingServes.
	clusterWide bool
	// kubeletDir is the kubelet's --root-dir, where workload-identity
	// pods' projected tokens are.
	kubeletDir string
	log        *slog.Logger
	// ignored remembers, by assignment namespace/name, the verdict last
	// logged for an ignored assignment, so each is logged once.
	ignoredMu sync.Mutex
	ignored   map[string]verdict
}

var (
	_ server.PodResolver    = (*Index)(nil)
	_ server.IdentityLister = (*Index)(nil)
)

// Indexers returns the index functions each cache must carry.
func podIndexers() cache.Indexers { return cache.Indexers{byPodIP: podIPs, byPodUID: podUID} }

func assignedIndexers() cache.Indexers {
	return cache.Indexers{byPod: assignedPod, byIdentity: assignedIdentity}
}

func exceptionIndexers() cache.Indexers {
	return cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
}

// noIndexers is for caches read by namespace/name only.
func noIndexers() cache.Indexers { return cache.Indexers{} }

// ResolveCaller implements server.PodResolver.
func (x *Index) ResolveCaller(_ context.Context, ip netip.Addr) (server.Caller, <-chan struct{}, error) {
	ch := x.changes.Current()
	objs, err := x.pods.ByIndex(byPodIP, ip.String())
	if err != nil {
		return server.Caller{}, ch, fmt.Errorf("look up pods by IP %s: %w", ip, err)
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	c, err := resolveCaller(pods, x.exempt)
	return c, ch, err
}

// LookupPod implements server.PodResolver.
func (x *Index) LookupPod(_ context.Context, ref server.PodRef) (server.Caller, <-chan struct{}, error) {
	ch := x.changes.Current()
	obj, ok, err := x.pods.GetByKey(ref.String())
	if err != nil {
		return server.Caller{}, ch, fmt.Errorf("look up pod %s: %w", ref, err)
	}
	p, isPod := obj.(*corev1.Pod)
	if !ok || !isPod || !live(p) {
		return server.Caller{}, ch, server.ErrUnknownCaller
	}
	return toCaller(p, x.exempt(p)), ch, nil
}

// PodByUID returns the live pod of this node with the UID and its service
// account.
func (x *Index) PodByUID(uid string) (pod server.PodRef, serviceAccount string, ok bool) {
	objs, err := x.pods.ByIndex(byPodUID, uid)
	if err != nil {
		return server.PodRef{}, "", false
	}
	for _, o := range objs {
		if p, isPod := o.(*corev1.Pod); isPod && live(p) {
			sa := wi.ServiceAccountOf(&p.Spec)
			return server.PodRef{Namespace: p.Namespace, Name: p.Name}, sa, true
		}
	}
	return server.PodRef{}, "", false
}

// IdentitiesFor implements server.IdentityLister. A workload-identity pod
// (workloadIdentityOf) gets its service account's identity and its
// assigned ones, all exchanged with its own token. Otherwise it lists only the
// assignments the live objects justify (vouch): the identity comes from the
// live AzureIdentity, and an assignment that is forged or stale is ignored
// and logged once. The channel is closed at the next change of a pod,
// assignment, exception, binding or identity.
func (x *Index) IdentitiesFor(_ context.Context, ref server.PodRef) ([]server.Assigned, <-chan struct{}) {
	ch := x.changes.Current()
	objs, err := x.assigned.ByIndex(byPod, ref.String())
	if err != nil {
		return nil, ch
	}
	out := make([]server.Assigned, 0, len(objs))
	for _, o := range objs {
		a, ok := o.(*v1.AzureAssignedIdentity)
		if !ok {
			continue
		}
		got, v := vouch(a, x.liveObjectsOf(a))
		x.noteVerdict(a.Namespace+"/"+a.Name, v)
		if v.Reason == "" {
			out = append(out, got)
		}
	}
	if p, ok := get[*corev1.Pod](x.pods, ref.String()); ok {
		if def, wi := workloadIdentityOf(p, x.kubeletDir); wi {
			return workloadAssignments(def, out), ch
		}
	}
	return out, ch
}

// liveObjectsOf reads from the caches the objects assignment a names.
func (x *Index) liveObjectsOf(a *v1.AzureAssignedIdentity) liveObjects {
	live := liveObjects{ClusterWide: x.clusterWide}
	if p, ok := get[*corev1.Pod](x.pods, a.Spec.PodNamespace+"/"+a.Spec.Pod); ok {
		live.Pod = p
	}
	if r := a.Spec.AzureBindingRef; r != nil {
		if b, ok := get[*v1.AzureIdentityBinding](x.bindings, r.Namespace+"/"+r.Name); ok {
			live.Binding = b
		}
	}
	if r := a.Spec.AzureIdentityRef; r != nil {
		if id, ok := get[*v1.AzureIdentity](x.identities, r.Namespace+"/"+r.Name); ok {
			live.Identity = id
		}
	}
	return live
}

// get returns the object of type T stored under key, if any.
func get[T any](idx cache.Indexer, key string) (T, bool) {
	var zero T
	if idx == nil {
		return zero, false
	}
	obj, ok, err := idx.GetByKey(key)
	if err != nil || !ok {
		return zero, false
	}
	t, ok := obj.(T)
	return t, ok
}

// noteVerdict logs an ignored assignment once per verdict, and forgets it
// once it is honoured again. No identity data is logged.
func (x *Index) noteVerdict(key string, v verdict) {
	x.ignoredMu.Lock()
	defer x.ignoredMu.Unlock()
	if v.Reason == "" {
		delete(x.ignored, key)
		return
	}
	if x.ignored[key] == v {
		return
	}
	if x.ignored == nil {
		x.ignored = map[string]verdict{}
	}
	x.ignored[key] = v
	x.logger().Debug("ignoring an assignment the live objects do not justify",
		"azureassignedidentity", key, "reason", v.Reason, "message", v.Message)
}

// forget drops what noteVerdict remembers of a deleted assignment.
func (x *Index) forget(key string) {
	x.ignoredMu.Lock()
	defer x.ignoredMu.Unlock()
	delete(x.ignored, key)
}

func (x *Index) logger() *slog.Logger {
	if x.log == nil {
		return slog.Default()
	}
	return x.log
}

func (x *Index) exempt(p *corev1.Pod) bool {
	objs, err := x.exceptions.ByIndex(cache.NamespaceIndex, p.Namespace)
	if err != nil || len(objs) == 0 {
		return false
	}
	list := make([]*v1.AzurePodIdentityException, 0, len(objs))
	for _, o := range objs {
		if e, ok := o.(*v1.AzurePodIdentityException); ok {
			list = append(list, e)
		}
	}
	return exempted(p, list)
}

package podindex

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/broadcast"
	"github.com/podid/podid/internal/agent/server"
)

// Index answers the token server's questions from three caches.
type Index struct {
	pods       cache.Indexer
	assigned   cache.Indexer
	exceptions cache.Indexer
	changes    broadcast.Broadcast
}

var (
	_ server.PodResolver    = (*Index)(nil)
	_ server.IdentityLister = (*Index)(nil)
)

// Indexers returns the index functions each cache must carry.
func podIndexers() cache.Indexers { return cache.Indexers{byPodIP: podIPs} }

func assignedIndexers() cache.Indexers {
	return cache.Indexers{byPod: assignedPod, byIdentity: assignedIdentity}
}

func exceptionIndexers() cache.Indexers {
	return cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
}

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

// IdentitiesFor implements server.IdentityLister. Assignments without an
// identity copy are skipped.
func (x *Index) IdentitiesFor(_ context.Context, ref server.PodRef) ([]server.Assigned, <-chan struct{}) {
	ch := x.changes.Current()
	objs, err := x.assigned.ByIndex(byPod, ref.String())
	if err != nil {
		return nil, ch
	}
	out := make([]server.Assigned, 0, len(objs))
	for _, o := range objs {
		if a, ok := o.(*v1.AzureAssignedIdentity); ok && a.Spec.AzureIdentityRef != nil {
			out = append(out, toAssigned(a))
		}
	}
	return out, ch
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

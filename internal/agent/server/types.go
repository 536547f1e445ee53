package server

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/podid/podid/internal/tokens"
)

// PodRef names a pod.
type PodRef struct {
	Namespace, Name string
}

// String returns namespace/name.
func (p PodRef) String() string { return p.Namespace + "/" + p.Name }

// Caller is the pod a request comes from.
type Caller struct {
	// Pod is the calling pod.
	Pod PodRef
	// Created is when the pod was created; young pods are told to retry
	// while the controller catches up with them.
	Created time.Time
	// HostNetwork is set when the pod shares the node's network namespace,
	// so its address does not tell it apart from the node or other such pods.
	HostNetwork bool
	// Exempt is set when an AzurePodIdentityException covers the pod; its
	// requests pass through to the node's IMDS.
	Exempt bool
}

// Errors a PodResolver returns.
var (
	// ErrUnknownCaller means no Pending or Running pod of this node has the
	// address (or the name, for /host/token).
	ErrUnknownCaller = errors.New("no pod of this node has this address")
	// ErrAmbiguousCaller means several pods claim the address.
	ErrAmbiguousCaller = errors.New("several pods of this node have this address")
)

// PodResolver maps a request to the pod that sent it.
//
// Both methods return, besides the answer, a channel that is closed at the
// next change that could alter it (taken before the answer was read, so no
// change is lost). They never block on the network.
type PodResolver interface {
	// ResolveCaller returns the pod whose address is ip, ErrUnknownCaller
	// or ErrAmbiguousCaller.
	ResolveCaller(ctx context.Context, ip netip.Addr) (Caller, <-chan struct{}, error)
	// LookupPod returns the named pod of this node or ErrUnknownCaller.
	LookupPod(ctx context.Context, pod PodRef) (Caller, <-chan struct{}, error)
}

// Assigned is one AzureAssignedIdentity of a pod.
type Assigned struct {
	// Name is namespace/name of the AzureAssignedIdentity.
	Name string
	// Identity is the identity the pod may use.
	Identity tokens.Identity
	// State is the assignment status: Created, Assigned or Unassigned.
	State string
	// Default marks the identity a request naming none gets when the pod
	// has several: a workload-identity pod's service-account client ID.
	Default bool
}

// IdentityLister lists a pod's assignments. The channel is closed at the
// next change of any assignment of this node, as for PodResolver.
type IdentityLister interface {
	IdentitiesFor(ctx context.Context, pod PodRef) ([]Assigned, <-chan struct{})
}

// HostCallers decides whether the process behind a /host/token request is
// a host component allowed to name other pods. It returns who the caller
// is, and an error that says why it is refused and how to allow it.
type HostCallers interface {
	Allow(r *http.Request) (who string, err error)
}

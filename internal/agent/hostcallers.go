package agent

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/podid/podid/internal/agent/peer"
	"github.com/podid/podid/internal/agent/server"
)

// hostCallerNode is the allow-list entry for processes that run in no pod
// and as root: the node's own components.
const hostCallerNode = "node"

// DefaultHostTokenAllow lets the Secrets Store CSI driver's Azure provider,
// the component /host/token exists for, call it as its chart installs it.
var DefaultHostTokenAllow = []string{"kube-system/csi-secrets-store-provider-azure"}

// validHostCaller checks one allow-list entry.
func validHostCaller(e string) error {
	if e == hostCallerNode {
		return nil
	}
	ns, sa, ok := strings.Cut(e, "/")
	if !ok || ns == "" || sa == "" || strings.Contains(sa, "/") {
		return fmt.Errorf("--host-token-allow entry %q: want namespace/serviceaccount or %q", e, hostCallerNode)
	}
	return nil
}

// podLookup finds a live pod of this node by UID, with its service account.
type podLookup func(uid string) (pod server.PodRef, serviceAccount string, ok bool)

// decideHostCaller says whether the process behind a /host/token request
// may name pods: a pod's process when the pod's namespace/serviceaccount is
// allowed, a process in no pod when "node" is allowed and it runs as root.
// It returns who the caller is, for logs.
func decideHostCaller(allow []string, p peer.Process, lookup podLookup) (string, error) {
	if p.PodUID == "" {
		who := fmt.Sprintf("node process %d (uid %d)", p.PID, p.UID)
		if !slices.Contains(allow, hostCallerNode) {
			return who, fmt.Errorf("/host/token refused to %s: node processes are not allowed; add %q to --host-token-allow to allow root processes of the node", who, hostCallerNode)
		}
		if p.UID != 0 {
			return who, fmt.Errorf("/host/token refused to %s: only root processes of the node are allowed", who)
		}
		return who, nil
	}
	pod, sa, ok := lookup(p.PodUID)
	if !ok {
		return "pod " + p.PodUID, fmt.Errorf("/host/token refused to process %d: its pod (UID %s) is not a live pod of this node", p.PID, p.PodUID)
	}
	who := fmt.Sprintf("pod %s (service account %s)", pod, sa)
	if !slices.Contains(allow, pod.Namespace+"/"+sa) {
		return who, fmt.Errorf("/host/token refused to %s: add %s/%s to --host-token-allow (the chart's nmi.hostTokenAllow) if this component may get other pods' tokens", who, pod.Namespace, sa)
	}
	return who, nil
}

// hostCallers proves who is behind a /host/token connection from the
// kernel's tables and checks it against the allow list.
type hostCallers struct {
	allow  []string
	lookup podLookup
	of     func(client, server netip.AddrPort) (peer.Process, error)
}

var _ server.HostCallers = (*hostCallers)(nil)

// Allow implements server.HostCallers.
func (h *hostCallers) Allow(r *http.Request) (string, error) {
	client, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return "", fmt.Errorf("/host/token caller address %q: %w", r.RemoteAddr, err)
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return "", errors.New("/host/token: the agent cannot tell which of its addresses was called")
	}
	srv, err := netip.ParseAddrPort(local.String())
	if err != nil {
		return "", fmt.Errorf("/host/token local address %q: %w", local, err)
	}
	p, err := h.of(netip.AddrPortFrom(client.Addr().Unmap(), client.Port()), netip.AddrPortFrom(srv.Addr().Unmap(), srv.Port()))
	if err != nil {
		return "", fmt.Errorf("/host/token refused: the calling process cannot be found (%w); the agent needs the host's PID namespace", err)
	}
	return decideHostCaller(h.allow, p, h.lookup)
}

package server

import (
	"errors"
	"fmt"
	"net/http"
)

// hostToken serves /host/token for host components (for example a CSI
// driver acting for a pod): the pod is named by the podns and podname
// headers. Only loopback callers whose address is not a pod's (on kwok
// test clusters pod addresses are loopback addresses too) and whose process
// HostCallers admits are served: any hostNetwork pod or node process could
// otherwise get any pod's token by naming it.
func (s *server) hostToken(w http.ResponseWriter, r *http.Request) {
	ip, err := remoteIP(r)
	if err != nil || !ip.IsLoopback() {
		s.refuse(w, r, &Refusal{Status: http.StatusForbidden, Reason: ReasonNotLoopback,
			Message: "/host/token is served to callers on this host's loopback address only"})
		return
	}
	if c, _, err := s.opts.Pods.ResolveCaller(r.Context(), ip); err == nil && !c.HostNetwork {
		s.refuse(w, r, &Refusal{Status: http.StatusForbidden, Reason: ReasonNotLoopback,
			Message: fmt.Sprintf("/host/token is served to host components only, and %s is the address of pod %s", ip, c.Pod)})
		return
	}
	if s.opts.HostCallers == nil {
		s.refuse(w, r, &Refusal{Status: http.StatusForbidden, Reason: ReasonHostCallerRefused,
			Message: "/host/token is not enabled on this agent: list the host components that may call it with --host-token-allow"})
		return
	}
	if _, err := s.opts.HostCallers.Allow(r); err != nil {
		s.refuse(w, r, &Refusal{Status: http.StatusForbidden, Reason: ReasonHostCallerRefused, Message: err.Error()})
		return
	}
	pod := PodRef{Namespace: r.Header.Get("podns"), Name: r.Header.Get("podname")}
	if pod.Namespace == "" || pod.Name == "" {
		s.refuse(w, r, &Refusal{Status: http.StatusBadRequest, Reason: ReasonBadRequest,
			Message: "headers podns and podname are required"})
		return
	}
	resource, sel, ref := parseTokenQuery(parseQuery(r.URL.RawQuery))
	if ref != nil {
		s.refuse(w, r, ref)
		return
	}
	ctx := r.Context()
	routeOf(ctx).pod = pod.String()
	wt := &waiter{limit: s.opts.AssignmentWait}
	defer wt.stop()
	var caller Caller
	for {
		c, changed, err := s.opts.Pods.LookupPod(ctx, pod)
		if err == nil {
			caller = c
			break
		}
		if !errors.Is(err, ErrUnknownCaller) || !wt.wait(ctx, changed) {
			s.refuse(w, r, &Refusal{Status: http.StatusNotFound, Reason: ReasonUnknownCaller,
				Message: fmt.Sprintf("no pod %s runs on this node", pod)})
			return
		}
	}
	release, ref := s.limits.acquire(caller.Pod)
	if ref != nil {
		s.refuse(w, r, ref)
		return
	}
	defer release()
	tok, a, ref := s.obtain(ctx, caller, sel, resource, wt)
	if ref != nil {
		s.refuse(w, r, ref)
		return
	}
	writeJSON(w, http.StatusOK, hostToken{Token: newIMDSToken(tok, s.opts.Now()), ClientID: a.Identity.ClientID})
}

package server

import (
	"fmt"
	"net/http"
)

// passOn applies a path policy: block, or proxy for known pods only.
func (s *server) passOn(w http.ResponseWriter, r *http.Request, policy PathPolicy) {
	if policy != Proxy || s.proxy == nil {
		s.refuse(w, r, &Refusal{Status: http.StatusForbidden, Reason: ReasonBlocked,
			Message: fmt.Sprintf("Request blocked by podid: %s is not served to pods on this node", r.URL.Path)})
		return
	}
	if r.Header.Get("Metadata") != "true" {
		s.refuse(w, r, &Refusal{Status: http.StatusBadRequest, Reason: ReasonMetadataHeader, Message: metadataHeaderMessage})
		return
	}
	wt := &waiter{}
	defer wt.stop()
	if _, ref := s.resolve(r.Context(), r, wt); ref != nil {
		s.refuse(w, r, ref)
		return
	}
	s.forward(w, r)
}

// forward sends the request to the node's IMDS unchanged.
func (s *server) forward(w http.ResponseWriter, r *http.Request) {
	if s.proxy == nil {
		s.refuse(w, r, &Refusal{Status: http.StatusForbidden, Reason: ReasonBlocked,
			Message: "Request blocked by podid: no node IMDS is configured to pass this request to"})
		return
	}
	s.proxy.ServeHTTP(w, r)
}

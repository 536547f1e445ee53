package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

// Selector is what a token request says about the identity it wants.
// At most one field may be set.
type Selector struct {
	ClientID   string // client_id
	ObjectID   string // object_id
	ResourceID string // msi_res_id, or mi_res_id (App Service spelling)
}

// selectorFrom reads the identity selector of a query; aad-pod-identity
// preferred msi_res_id over mi_res_id, and so do we.
func selectorFrom(q tokenQuery) (Selector, *Refusal) {
	s := Selector{ClientID: q.ClientID, ObjectID: q.ObjectID, ResourceID: q.MSIResID}
	if s.ResourceID == "" {
		s.ResourceID = q.MIResID
	}
	n := 0
	for _, v := range []string{s.ClientID, s.ObjectID, s.ResourceID} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return s, &Refusal{Status: http.StatusBadRequest, Reason: ReasonSelectorConflict,
			Message: "give at most one of client_id, object_id and msi_res_id"}
	}
	return s, nil
}

func (s Selector) empty() bool { return s == Selector{} }

func (s Selector) String() string {
	switch {
	case s.ClientID != "":
		return "client_id " + tokens.RedactClientID(s.ClientID)
	case s.ObjectID != "":
		return "object_id " + s.ObjectID
	default:
		return "msi_res_id " + s.ResourceID
	}
}

func (s Selector) matches(id tokens.Identity) bool {
	switch {
	case s.ClientID != "":
		return strings.EqualFold(s.ClientID, id.ClientID)
	case s.ObjectID != "":
		return id.ObjectID != "" && strings.EqualFold(s.ObjectID, id.ObjectID)
	default:
		return id.ResourceID != "" && strings.EqualFold(s.ResourceID, id.ResourceID)
	}
}

// Refusal is why a request gets no token, and how to answer it.
type Refusal struct {
	// Status is the HTTP status to answer with.
	Status int
	// Reason is one of the Reason constants.
	Reason string
	// Message is the error_description: what is wrong and what to do.
	Message string
	// Wait means the answer may change soon (an assignment or pod is
	// missing or not ready); the handler waits for a change before answering.
	Wait bool
}

// RetryAfter reports whether the answer carries a Retry-After header.
func (r *Refusal) RetryAfter() bool {
	return r.Status == http.StatusServiceUnavailable || r.Status == http.StatusTooManyRequests
}

// selectIdentity decides which of a pod's assignments a request names.
// Selection by object ID sees only the object IDs already filled in
// (learnObjectIDs).
//
// Assignments being removed (Unassigned) are ignored. Several assignments of
// the same identity (through several bindings) count as one, the Assigned
// one preferred. With no selector, a single identity is chosen; several are
// refused rather than picked at random, unless exactly one is the pod's
// Default (workload identity). A chosen assignment that is not
// Assigned yet is refused with 503, worth waiting for.
func selectIdentity(sel Selector, pod PodRef, list []Assigned) (Assigned, *Refusal) {
	cands := candidates(list)
	if len(cands) == 0 {
		return Assigned{}, &Refusal{Status: http.StatusBadRequest, Reason: ReasonNoIdentity, Wait: true,
			Message: fmt.Sprintf("Identity not found: no identity is assigned to pod %s; check that its aadpodidbinding label matches an AzureIdentityBinding of an existing AzureIdentity", pod)}
	}
	var chosen []Assigned
	if sel.empty() {
		chosen = cands
		if d := defaults(cands); len(cands) > 1 && len(d) == 1 {
			chosen = d
		}
	} else {
		for _, a := range cands {
			if sel.matches(a.Identity) {
				chosen = append(chosen, a)
			}
		}
	}
	switch {
	case len(chosen) == 0:
		msg := fmt.Sprintf("Identity not found: pod %s has no identity with %s; its identities have client IDs %s", pod, sel, clientIDs(cands))
		return Assigned{}, &Refusal{Status: http.StatusBadRequest, Reason: ReasonIdentityNotFound, Wait: true, Message: msg}
	case len(chosen) > 1:
		return Assigned{}, &Refusal{Status: http.StatusBadRequest, Reason: ReasonAmbiguousIdentity,
			Message: fmt.Sprintf("pod %s has %d identities (client IDs %s); name one with the client_id or msi_res_id query parameter (AZURE_CLIENT_ID for DefaultAzureCredential)", pod, len(chosen), clientIDs(chosen))}
	}
	a := chosen[0]
	if a.State != v1.AssignedIDAssigned {
		return a, &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonNotReady, Wait: true,
			Message: fmt.Sprintf("identity %s is assigned to pod %s but not ready yet (status %q); retry shortly", a.Identity.Name, pod, a.State)}
	}
	return a, nil
}

// candidates drops Unassigned entries and merges entries of one identity,
// keeping the first order of appearance and preferring Assigned.
func candidates(list []Assigned) []Assigned {
	if len(list) == 1 && list[0].State != v1.AssignedIDUnassigned {
		return list
	}
	out := make([]Assigned, 0, len(list))
	at := make(map[tokens.IdentityKey]int, len(list))
	for _, a := range list {
		if a.State == v1.AssignedIDUnassigned {
			continue
		}
		k := a.Identity.Key()
		if i, ok := at[k]; ok {
			if out[i].State != v1.AssignedIDAssigned && a.State == v1.AssignedIDAssigned {
				out[i] = a
			}
			continue
		}
		at[k] = len(out)
		out = append(out, a)
	}
	return out
}

// defaults are the entries marked Default.
func defaults(list []Assigned) []Assigned {
	var out []Assigned
	for _, a := range list {
		if a.Default {
			out = append(out, a)
		}
	}
	return out
}

func clientIDs(list []Assigned) string {
	ids := make([]string, len(list))
	for i, a := range list {
		ids[i] = tokens.RedactClientID(a.Identity.ClientID)
	}
	return strings.Join(ids, ", ")
}

// settle turns a refusal that is still waiting for a change, once the wait
// is over, into the final answer. A pod younger than grace has no identity
// yet most likely because the controller has not caught up: 503, retried by
// every SDK, instead of the 400 that would stop it.
func settle(r *Refusal, caller Caller, now time.Time, grace time.Duration) *Refusal {
	if r == nil || !r.Wait {
		return r
	}
	out := *r
	out.Wait = false
	young := !caller.Created.IsZero() && now.Sub(caller.Created) < grace
	if (r.Reason == ReasonNoIdentity || r.Reason == ReasonIdentityNotFound) && young {
		out.Status = http.StatusServiceUnavailable
		out.Message = r.Message + "; the pod is new, so the assignment may still come: retry shortly"
	}
	return &out
}

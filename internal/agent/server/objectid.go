package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

// Selection by object_id.
//
// The AzureIdentity API carries no object ID, but every access token Azure
// AD issues to an identity names the identity's service principal in its oid
// claim. So the agent learns object IDs from tokens:
//
//  1. Known object IDs come first: Identity.ObjectID if set, else what the
//     token source remembers (tokens.Cache keeps the oid of the last token
//     it stored per identity key, bounded, forgotten with the identity).
//  2. When none of the pod's identities is known to have the requested
//     object ID, the agent gets a token for the requested resource for each
//     Assigned identity of the pod whose object ID is unknown (from the
//     cache, so usually without a call upstream) and reads oid from it, with
//     no signature check (tokens.ObjectIDOf).
//  3. selectIdentity then chooses as for client_id. An object ID that none
//     of them has gets IMDS's 400 "Identity not found".
//
// Only the pod's own identities are ever asked, so learning grants the pod
// nothing it could not ask for by client_id.

// objectIDMemory is a token source that remembers the object IDs of the
// tokens it has handed out; tokens.Cache is one.
type objectIDMemory interface {
	ObjectID(identityKey tokens.IdentityKey) string
}

var _ objectIDMemory = (*tokens.Cache)(nil)

// learnFailure is an identity whose object ID could not be learned.
type learnFailure struct {
	identity string
	err      error
	// retry is set when a later attempt may succeed.
	retry bool
}

// withObjectIDs returns a copy of list in which each identity without an
// object ID gets the one oids has for its key.
func withObjectIDs(list []Assigned, oids map[tokens.IdentityKey]string) []Assigned {
	out := make([]Assigned, len(list))
	copy(out, list)
	for i := range out {
		if id := &out[i].Identity; id.ObjectID == "" {
			id.ObjectID = oids[id.Key()]
		}
	}
	return out
}

// objectIDsToLearn returns the identities whose object ID must be learned
// before a request can be answered: none when sel names no object ID or an
// identity already matches it, else each Assigned candidate whose object ID
// is unknown. Candidates not Assigned yet are left until they are, as
// selectIdentity waits for them.
func objectIDsToLearn(sel Selector, list []Assigned) []Assigned {
	if sel.ObjectID == "" {
		return nil
	}
	cands := candidates(list)
	for _, a := range cands {
		if sel.matches(a.Identity) {
			return nil
		}
	}
	var out []Assigned
	for _, a := range cands {
		if a.Identity.ObjectID == "" && a.State == v1.AssignedIDAssigned {
			out = append(out, a)
		}
	}
	return out
}

// objectIDRefusal explains a miss by object ID when some identities' object
// IDs could not be learned: if any of those may still succeed, the client is
// told to retry (503); otherwise the miss stays a 400 naming them.
func objectIDRefusal(ref *Refusal, failed []learnFailure) *Refusal {
	if ref == nil || ref.Reason != ReasonIdentityNotFound || len(failed) == 0 {
		return ref
	}
	names := make([]string, len(failed))
	retry := false
	for i, f := range failed {
		names[i] = fmt.Sprintf("%s (%v)", f.identity, f.err)
		retry = retry || f.retry
	}
	if retry {
		return &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonTokenFailed,
			Message: "the object IDs of some identities of the pod are not known yet, and getting their tokens to learn them failed; retry shortly: " + strings.Join(names, "; ")}
	}
	out := *ref
	out.Message += "; the object IDs of these identities could not be learned: " + strings.Join(names, "; ")
	return &out
}

// learnObjectIDs fills in the object IDs of list that a request naming
// sel.ObjectID needs: from the token source's memory, then from a token of
// each identity still unknown, fetched concurrently.
func (s *server) learnObjectIDs(ctx context.Context, sel Selector, list []Assigned, resource string) ([]Assigned, []learnFailure) {
	if sel.ObjectID == "" {
		return list, nil
	}
	if mem, ok := s.opts.Tokens.(objectIDMemory); ok {
		known := make(map[tokens.IdentityKey]string, len(list))
		for _, a := range list {
			k := a.Identity.Key()
			if oid := mem.ObjectID(k); oid != "" {
				known[k] = oid
			}
		}
		list = withObjectIDs(list, known)
	}
	todo := objectIDsToLearn(sel, list)
	if len(todo) == 0 {
		return list, nil
	}
	return s.learnFromTokens(ctx, list, todo, resource)
}

// learnFromTokens gets a token of each identity of todo, concurrently, and
// fills their object IDs into list. (Apart from learnObjectIDs so that the
// warm path, which names no object_id, does not pay for the closures'
// variables.)
func (s *server) learnFromTokens(ctx context.Context, list, todo []Assigned, resource string) ([]Assigned, []learnFailure) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.TokenTimeout)
	defer cancel()
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		learned = make(map[tokens.IdentityKey]string, len(todo))
		failed  []learnFailure
	)
	for _, a := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			oid, retry, err := s.objectIDFromToken(ctx, a.Identity, resource)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, learnFailure{identity: a.Identity.Name, err: err, retry: retry})
				return
			}
			learned[a.Identity.Key()] = oid
		}()
	}
	wg.Wait()
	sort.Slice(failed, func(i, j int) bool { return failed[i].identity < failed[j].identity })
	return withObjectIDs(list, learned), failed
}

// objectIDFromToken reads the identity's object ID from its token for
// resource. retry is set when getting the token failed in a way worth
// retrying; a token without oid claim is not.
func (s *server) objectIDFromToken(ctx context.Context, id tokens.Identity, resource string) (oid string, retry bool, err error) {
	tok, err := s.opts.Tokens.Token(ctx, tokens.Request{Identity: id, Resource: resource})
	if err != nil {
		return "", !tokens.Permanent(err), fmt.Errorf("get token: %w", err)
	}
	oid, err = tokens.ObjectIDOf(tok.AccessToken)
	return oid, false, err
}

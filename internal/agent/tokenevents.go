package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/podid/podid/internal/tokens"
)

// ReasonTokenRefused is the reason of the Warning event the agent records
// on an AzureIdentity (the ServiceAccount, for a workload-identity pod)
// when Azure AD refuses its tokens for good (an expired
// secret, a federated credential that does not match): the pod only sees
// IMDS's error, the event says why and what fixes it, and podid doctor
// reads it.
const ReasonTokenRefused = "TokenRequestRefused"

// refusalEventEvery is how often one identity's same refusal is recorded:
// often enough to see it is current, not once per pod request.
const refusalEventEvery = 5 * time.Minute

// explainRefusals wraps a token source so that permanent refusals become
// Warning events on the identity, at most one per identity and code per
// refusalEventEvery.
func explainRefusals(next tokens.TokenSource, warn func(ctx context.Context, id tokens.Identity, reason, message string), now func() time.Time) tokens.TokenSource {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return tokens.TokenSourceFunc(func(ctx context.Context, req tokens.Request) (tokens.Token, error) {
		tok, err := next.Token(ctx, req)
		if err == nil {
			return tok, nil
		}
		e, ok := tokens.ExplainFor(req.Identity, err)
		if !ok {
			return tok, err
		}
		key := req.Identity.Name + "|" + e.Code
		mu.Lock()
		due := now().Sub(last[key]) >= refusalEventEvery
		if due {
			last[key] = now()
		}
		mu.Unlock()
		if due {
			warn(ctx, req.Identity, ReasonTokenRefused, fmt.Sprintf("Azure AD refused a token for resource %s (%s): %s. %s%s", req.Resource, e.Code, e.Cause, tokens.FixMarker, e.Fix))
		}
		return tok, err
	})
}

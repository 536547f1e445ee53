package doctor

import (
	"fmt"
	"strings"
	"time"

	"github.com/podid/podid/internal/tokens"
)

// reasonTokenRefused is the node agent's event reason for a token Azure
// AD refused for good (internal/agent.ReasonTokenRefused; the agent
// package is not imported for one string).
const reasonTokenRefused = "TokenRequestRefused"

// refusalWindow is how recent an agent's refusal event must be to count:
// the agent records a refusal at most every five minutes while it lasts.
const refusalWindow = 15 * time.Minute

// checkTokenRefusals: the node agents record why Azure AD refused an
// identity's tokens (an expired client secret, AADSTS7000222; a federated
// credential that does not match, AADSTS70021) as Warning events on the
// AzureIdentity; pods only see IMDS's error. The newest recent one of each
// identity in scope is a failure with the agent's fix.
func checkTokenRefusals(f *Facts) []Finding {
	var out []Finding
	examined := 0
	for i := range f.Identities {
		id := &f.Identities[i]
		if !f.IdentityInScope(id) {
			continue
		}
		examined++
		if r, ok := newestRefusal(f, "AzureIdentity", id.Namespace, id.Name); ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 && examined > 0 {
		out = append(out, Finding{Status: Pass, Message: fmt.Sprintf("no node agent reported Azure AD refusing the tokens of %d %s in the last %s", examined, plural(examined, "identity", "identities"), refusalWindow)})
	}
	return out
}

// newestRefusal is the newest recent TokenRequestRefused event on the
// object as a failure: the agent's cause as the message, its fix as the
// fix.
func newestRefusal(f *Facts, kind, ns, name string) (Finding, bool) {
	events := f.EventsFor(kind, ns, name)
	for j := len(events) - 1; j >= 0; j-- {
		e := events[j]
		if e.Reason != reasonTokenRefused || f.Now.Sub(eventTime(e)) > refusalWindow {
			continue
		}
		cause, fix, _ := strings.Cut(e.Message, tokens.FixMarker)
		return Finding{
			Status: Fail, Object: Object(kind, ns, name),
			Message:  strings.TrimSuffix(strings.TrimSpace(cause), "."),
			Evidence: []string{fmt.Sprintf("Warning %s from %s, %s ago (%d times): %s", e.Reason, e.Source.Component, f.Now.Sub(eventTime(e)).Round(time.Second), e.Count, e.Message)},
			Fix:      strings.TrimSpace(fix),
		}, true
	}
	return Finding{}, false
}

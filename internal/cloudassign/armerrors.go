package cloudassign

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind sorts cloud failures by what the worker does next.
type Kind int

const (
	// KindOther is any other refusal by ARM; the worker retries it with
	// back-off.
	KindOther Kind = iota
	// KindThrottled: ARM said 429; wait for Retry-After before any call.
	KindThrottled
	// KindServer: 5xx; retry with back-off.
	KindServer
	// KindForbidden: the controller may not read or write the machine;
	// every pending identity of the machine waits for a role assignment.
	KindForbidden
	// KindIdentityRefused: the cloud refused named identities (not
	// assignable by the controller, or not existing); drop them and retry
	// the rest at once.
	KindIdentityRefused
	// KindUnreachable: ARM gave no answer (connection refused, timeout);
	// retry with back-off.
	KindUnreachable
	// KindMachineGone: the VM or scale set itself does not exist (404):
	// its identities went with it, so assignments being deleted have
	// nothing left to release.
	KindMachineGone
)

// Failure is a classified cloud error.
type Failure struct {
	Kind Kind
	// Code is ARM's error code, e.g. LinkedAuthorizationFailed.
	Code string
	// RetryAfter is how long ARM asked to wait (KindThrottled).
	RetryAfter time.Duration
	// Identities are the refused identity IDs (KindIdentityRefused).
	Identities []string
	// Message is a sentence for users: what failed and the command that
	// fixes it.
	Message string
}

var (
	reClient     = regexp.MustCompile(`The client '([^']*)' with object id '([^']*)'`)
	reLinked     = regexp.MustCompile(`linked scope\(s\) '([^']*)'`)
	reAuthFailed = regexp.MustCompile(`perform action '([^']*)' over scope '([^']*)'`)
	reNotFound   = regexp.MustCompile(`Resource '(/subscriptions/[^']*)' does not exist`)
)

// Classify turns an ARM response into a Failure. target is the machine the
// call was about; retryAfter is the Retry-After header, if any.
// GrantMarker introduces, in a refusal's message, the one command that
// grants what was missing; podid doctor reads the command after it.
const GrantMarker = "Grant it with: "

func Classify(target Target, status int, code, message, retryAfter string) Failure {
	f := Failure{Code: code}
	client := "<mic identity>"
	if m := reClient.FindStringSubmatch(message); m != nil {
		client = m[2]
	}
	rg := "/subscriptions/" + target.Subscription + "/resourceGroups/" + target.ResourceGroup
	switch {
	case status == http.StatusTooManyRequests:
		f.Kind = KindThrottled
		f.RetryAfter = parseRetryAfter(retryAfter, time.Now)
		// No figure in the text: it stays the same through an outage
		// (Worker.steady), while each answer's Retry-After is obeyed and
		// logged with the retry.
		f.Message = fmt.Sprintf("Azure throttled requests for %s (429); podid waits as long as ARM's Retry-After asks before calling again.", target.Name)
	case code == "LinkedAuthorizationFailed":
		f.Kind = KindIdentityRefused
		if m := reLinked.FindStringSubmatch(message); m != nil {
			for _, id := range strings.Split(m[1], ",") {
				if id = strings.TrimSpace(id); id != "" {
					f.Identities = append(f.Identities, id)
				}
			}
		}
		f.Message = fmt.Sprintf("LinkedAuthorizationFailed: the controller's identity (object id %s) may update %s but lacks Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on %s. "+GrantMarker+"az role assignment create --role \"Managed Identity Operator\" --assignee %s --scope %s",
			client, target.Name, strings.Join(f.Identities, ", "), client, firstOr(f.Identities, "<identity resource ID>"))
	case reNotFound.MatchString(message):
		f.Kind = KindIdentityRefused
		for _, m := range reNotFound.FindAllStringSubmatch(message, -1) {
			f.Identities = append(f.Identities, m[1])
		}
		f.Message = fmt.Sprintf("%s: Azure says identity %s does not exist. Fix spec.resourceID of the AzureIdentity (az identity show -g <group> -n <name> --query id), or create the identity.",
			code, strings.Join(f.Identities, ", "))
	case status == http.StatusNotFound && (code == "ResourceNotFound" || code == "ResourceGroupNotFound" || code == "NotFound"):
		f.Kind = KindMachineGone
		f.Message = fmt.Sprintf("%s: %s %s no longer exists in Azure, and its identities went with it; pods on its nodes get no node-mode identity until they run on another machine.",
			code, kindOf(target), target.ID)
	case status == http.StatusForbidden || code == "AuthorizationFailed":
		f.Kind = KindForbidden
		action, scope := "Microsoft.Compute/virtualMachineScaleSets/write", target.ID
		if m := reAuthFailed.FindStringSubmatch(message); m != nil {
			action, scope = m[1], m[2]
		}
		f.Message = fmt.Sprintf("AuthorizationFailed: the controller's identity (object id %s) may not perform %s on %s. "+GrantMarker+"az role assignment create --role \"Virtual Machine Contributor\" --assignee %s --scope %s",
			client, action, scope, client, rg)
	case status >= 500:
		f.Kind = KindServer
		f.Message = fmt.Sprintf("Azure answered %d for %s; podid retries with back-off.", status, target.Name)
	default:
		f.Message = fmt.Sprintf("Azure refused the identity update of %s (%d): %s", target.Name, status, message)
	}
	return f
}

// parseRetryAfter reads seconds or an HTTP date; missing or bad values mean
// a conservative 10 seconds.
func parseRetryAfter(v string, now func() time.Time) time.Duration {
	if v == "" {
		return 10 * time.Second
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now()); d > 0 {
			return d
		}
		return 0
	}
	return 10 * time.Second
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

// Unreachable is the Failure of a call ARM did not answer.
func Unreachable(target Target, err error) Failure {
	return Failure{Kind: KindUnreachable, Message: fmt.Sprintf("Azure could not be reached about %s: %v; podid retries with back-off.", target.Name, err)}
}

// Unavailable reports whether f means the cloud could not answer
// (throttling, 5xx, no answer) rather than that it refused: podid retries
// as is, and nobody needs to act unless it lasts.
func (f Failure) Unavailable() bool {
	return f.Kind == KindThrottled || f.Kind == KindServer || f.Kind == KindUnreachable
}

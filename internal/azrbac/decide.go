package azrbac

import (
	"strings"

	"github.com/google/uuid"
	authzv1 "k8s.io/api/authorization/v1"

	"github.com/podid/podid/internal/cloud/authz"
)

// Verdict is a webhook's answer.
type Verdict string

const (
	// NoOpinion leaves the request to the next authorizer (or denies it
	// when there is none).
	NoOpinion Verdict = "NoOpinion"
	// Allow allows the request.
	Allow Verdict = "Allow"
	// Deny denies it outright; later authorizers are not asked.
	Deny Verdict = "Deny"
)

// Decision is a verdict with the text kube-apiserver shows.
type Decision struct {
	Verdict Verdict
	// Reason is status.reason: one of the Reason* texts.
	Reason string
	// Error is status.evaluationError when the check could not be made.
	Error string
}

// Status is the SubjectAccessReview status that carries d.
func (d Decision) Status() authzv1.SubjectAccessReviewStatus {
	return authzv1.SubjectAccessReviewStatus{Allowed: d.Verdict == Allow, Denied: d.Verdict == Deny, Reason: d.Reason, EvaluationError: d.Error}
}

// Policy is how the webhook treats requests it has no role data for.
type Policy struct {
	// ClusterID is the managed cluster's ARM resource ID, the root of
	// every scope checked.
	ClusterID string
	// DenyNonAADUsers denies users who are not Azure AD principals instead
	// of leaving them to Kubernetes RBAC.
	DenyNonAADUsers bool
	// AllowDiscovery allows any Azure AD user GETs of discovery paths
	// (/api*, /openapi*, /version*, /healthz*) without a role.
	AllowDiscovery bool
}

// Subject is whom a Question is about: an Azure AD object ID and the
// group object IDs the authenticator vouched for.
type Subject struct {
	ObjectID string
	Groups   []string
}

// Question is one access check to put to Azure: may Subject perform the
// data Action at Scope?
type Question struct {
	Subject Subject
	Scope   string
	Action  string
}

// Plan turns a review into the Question to ask, or decides it at once:
// Kubernetes' own users (system:...) get no opinion; a caller with no
// Azure AD object ID (objectID empty: no Extra["oid"] and a user name the
// directory does not know) gets no opinion or, by policy, a denial;
// discovery GETs are allowed by policy; wildcard requests cannot be
// checked. ask is false when the returned Decision is final.
func Plan(p Policy, spec authzv1.SubjectAccessReviewSpec, objectID string) (q Question, d Decision, ask bool) {
	if strings.HasPrefix(strings.ToLower(spec.User), "system:") {
		return Question{}, Decision{Verdict: NoOpinion, Reason: ReasonSystemUser}, false
	}
	if objectID == "" {
		if p.DenyNonAADUsers {
			return Question{}, Decision{Verdict: Deny, Reason: ReasonNonAADDenied}, false
		}
		return Question{}, Decision{Verdict: NoOpinion, Reason: ReasonNonAADNoOpinion}, false
	}
	if p.AllowDiscovery && discovery(spec.NonResourceAttributes) {
		return Question{}, Decision{Verdict: Allow, Reason: ReasonAllowed}, false
	}
	action, err := DataAction(spec)
	if err != nil {
		return Question{}, Decision{Verdict: NoOpinion, Error: errorPrefix + err.Error()}, false
	}
	return Question{Subject: Subject{ObjectID: objectID, Groups: securityGroups(spec.Groups)}, Scope: Scope(p.ClusterID, spec), Action: action}, Decision{}, true
}

// Answer turns Azure's decision on a Question (or the error that kept it
// from deciding) into the webhook's. Azure's "not allowed" is a denial,
// not a lack of opinion, as in AKS.
func Answer(d authz.Decision, err error) Decision {
	if err != nil {
		return Decision{Verdict: NoOpinion, Error: errorPrefix + err.Error()}
	}
	if d.Allowed {
		return Decision{Verdict: Allow, Reason: ReasonAllowed}
	}
	return Decision{Verdict: Deny, Reason: ReasonDenied}
}

// ObjectID is the caller's object ID as the authenticator put it in the
// review: Extra["oid"], which AKS's token authenticator sets. Empty when
// absent; the caller may then resolve spec.User through the directory.
func ObjectID(spec authzv1.SubjectAccessReviewSpec) string {
	for k, v := range spec.Extra {
		if strings.EqualFold(k, "oid") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// discovery reports a GET of a path every signed-in user may read.
func discovery(nra *authzv1.NonResourceAttributes) bool {
	if nra == nil || !strings.EqualFold(nra.Verb, "get") {
		return false
	}
	p := strings.ToLower(nra.Path)
	for _, prefix := range []string{"/api", "/openapi", "/version", "/healthz"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// securityGroups keeps the groups that are Azure AD object IDs, dropping
// Kubernetes' own (system:authenticated, ...).
func securityGroups(groups []string) []string {
	var out []string
	for _, g := range groups {
		if _, err := uuid.Parse(g); err == nil {
			out = append(out, strings.ToLower(g))
		}
	}
	return out
}

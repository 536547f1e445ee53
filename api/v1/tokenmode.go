package v1

import (
	"fmt"
	"strings"
)

// TokenModeAnnotation on an AzureIdentity chooses how the node agent gets
// tokens for it, overriding the cluster default:
//   - TokenModeFederated: the agent exchanges its own service-account token
//     at Azure AD; nothing is written to the cloud, so a pod can get a token
//     as soon as it runs. The identity needs one federated credential for
//     the cluster's issuer and the agent's service account.
//   - TokenModeNode: aad-pod-identity's way. For a managed identity (type 0)
//     the controller adds it to the node's VM or VMSS and the agent asks the
//     node's IMDS; service principals (types 1, 2) use their secret or
//     certificate.
//
// ResolveTokenMode is the one rule both the controller and the node agent
// apply to it.
const (
	TokenModeAnnotation = "aadpodidentity.k8s.io/token-mode"
	TokenModeFederated  = "federated"
	TokenModeNode       = "node"
)

// ParseTokenMode reads a token mode as written in the annotation or in an
// assignment's spec.tokenMode, ignoring case and surrounding spaces. An
// empty value gives ("", true): no mode of its own. "federated" and "node"
// give themselves and true. Anything else gives ("", false): the value is
// invalid and counts as absent.
func ParseTokenMode(s string) (mode string, ok bool) {
	switch m := strings.ToLower(strings.TrimSpace(s)); m {
	case "":
		return "", true
	case TokenModeFederated, TokenModeNode:
		return m, true
	}
	return "", false
}

// TokenModeInput is everything that decides an identity's token mode.
// +kubebuilder:object:generate=false
type TokenModeInput struct {
	// Annotation is the identity's TokenModeAnnotation value as written; ""
	// when absent.
	Annotation string
	// Type is the identity's type.
	Type IdentityType
	// HasCredential is true when a service principal names the Secret that
	// holds its client secret or certificate (spec.clientPassword.name).
	HasCredential bool
	// ClusterDefault is the cluster's mode, TokenModeFederated or
	// TokenModeNode (mic's and nmi's --token-mode).
	ClusterDefault string
}

// ResolveTokenMode decides how the node agent gets tokens for an identity.
// The controller calls it and writes the result into each assignment's
// spec.tokenMode; the node agent calls it only for assignments written by
// an older controller, which lack that field. The rule, first match wins:
//
//  1. A valid annotation ("federated" or "node", any case) is the mode.
//  2. A service principal (type 1 or 2) that names its Secret uses it: node
//     mode, whatever the cluster default. A federated exchange for it would
//     be refused by Azure AD (AADSTS70021) unless the application has a
//     federated credential, which the annotation must then ask for.
//  3. Otherwise the cluster default. An invalid annotation counts as absent
//     (and the controller warns about it), so both components agree on it.
//
// A resolved mode resolves to itself, since rule 1 comes first.
func ResolveTokenMode(in TokenModeInput) string {
	if m, ok := ParseTokenMode(in.Annotation); ok && m != "" {
		return m
	}
	if (in.Type == ServicePrincipal || in.Type == ServicePrincipalCertificate) && in.HasCredential {
		return TokenModeNode
	}
	return in.ClusterDefault
}

// TokenMode returns the identity's mode given the cluster default (see
// ResolveTokenMode).
func (id *AzureIdentity) TokenMode(clusterDefault string) string {
	return ResolveTokenMode(TokenModeInput{
		Annotation:     id.Annotations[TokenModeAnnotation],
		Type:           id.Spec.Type,
		HasCredential:  id.Spec.ClientPassword != nil && id.Spec.ClientPassword.Name != "",
		ClusterDefault: clusterDefault,
	})
}

// NeedsCloudAssignment reports whether the controller must add the identity
// to the node's VM or VMSS before a pod can use it: a managed identity in
// node mode.
func (id *AzureIdentity) NeedsCloudAssignment(clusterDefault string) bool {
	return id.Spec.Type == UserAssignedMSI && id.TokenMode(clusterDefault) == TokenModeNode
}

// TokenModeProblem explains an annotation value that is not a token mode,
// and which mode the identity gets instead; ok is false when the value is
// valid or absent.
func (id *AzureIdentity) TokenModeProblem(clusterDefault string) (p FieldProblem, ok bool) {
	v, present := id.Annotations[TokenModeAnnotation]
	if _, valid := ParseTokenMode(v); !present || valid {
		return FieldProblem{}, false
	}
	return FieldProblem{
		Field: "metadata.annotations[" + TokenModeAnnotation + "]",
		Message: fmt.Sprintf("%q is not a token mode, so it is ignored and the identity gets tokens in %s mode. Set it to %q or %q, or remove it.",
			v, id.TokenMode(clusterDefault), TokenModeFederated, TokenModeNode),
	}, true
}

package tokens

import (
	"context"
	"fmt"

	v1 "github.com/podid/podid/api/v1"
)

// RouterOptions name the source for each kind of identity. A nil source
// refuses the identities that would need it.
type RouterOptions struct {
	// Default is the cluster's token mode for identities without their own.
	Default Mode
	// Node serves managed identities (type 0) in node mode.
	Node TokenSource
	// Secret serves service principals with a secret (type 1) in node mode.
	Secret TokenSource
	// Certificate serves service principals with a certificate (type 2).
	Certificate TokenSource
	// Federated serves any identity in federated mode.
	Federated TokenSource
	// PodToken serves workload-identity pods with their own token
	// (identities with an AssertionFile).
	PodToken TokenSource
}

type router struct{ o RouterOptions }

var _ TokenSource = (*router)(nil)

// NewRouter returns a source that hands each request to the source of its
// identity's mode and type.
func NewRouter(o RouterOptions) (TokenSource, error) {
	switch o.Default {
	case ModeNode, ModeFederated:
	case ModeDefault:
		o.Default = ModeNode
	default:
		return nil, fmt.Errorf("token mode %q: want %q or %q", o.Default, ModeNode, ModeFederated)
	}
	return &router{o: o}, nil
}

// route picks the source; pure, so the choice is testable on its own.
// A workload-identity pod's request (AssertionFile set) always goes to
// PodToken: the pod proves who it is with its own token.
//
// The mode is v1.ResolveTokenMode's, the rule mic applies too: an
// identity's Mode, as mic resolved it into the assignment, resolves to
// itself; an empty or invalid one (an assignment from an older mic) gets
// the same rule with this agent's cluster default, so a service principal
// that names its Secret uses it unless it asks for federated.
func route(o RouterOptions, id Identity) (TokenSource, string) {
	if id.AssertionFile != "" {
		return o.PodToken, "pod's own service-account token"
	}
	mode := Mode(v1.ResolveTokenMode(v1.TokenModeInput{
		Annotation:     string(id.Mode),
		Type:           id.Type,
		HasCredential:  id.SecretName != "",
		ClusterDefault: string(o.Default),
	}))
	if mode == ModeFederated {
		return o.Federated, "federated"
	}
	switch id.Type {
	case v1.UserAssignedMSI:
		return o.Node, "node IMDS"
	case v1.ServicePrincipal:
		return o.Secret, "client secret"
	case v1.ServicePrincipalCertificate:
		return o.Certificate, "certificate"
	}
	return nil, "type " + id.Type.String()
}

func (r *router) Token(ctx context.Context, req Request) (Token, error) {
	src, name := route(r.o, req.Identity)
	if src == nil {
		return Token{}, fmt.Errorf("identity %s needs the %s token source, which this agent does not run", req.Identity.Name, name)
	}
	return src.Token(ctx, req)
}

package tokens

import (
	"testing"

	v1 "github.com/podid/podid/api/v1"
)

// TestRouteResolvesTheModeAsMicDoes covers what TestRoute does not: the
// router applies v1.ResolveTokenMode, the rule mic writes into assignments.
func TestRouteResolvesTheModeAsMicDoes(t *testing.T) {
	o := RouterOptions{Node: TokenSourceFunc(nil), Secret: TokenSourceFunc(nil), Certificate: TokenSourceFunc(nil), Federated: TokenSourceFunc(nil)}
	cases := map[string]struct {
		def  Mode
		id   Identity
		want string
	}{
		"a secret service principal with its Secret uses it in a federated cluster": {
			def: ModeFederated, id: Identity{Type: v1.ServicePrincipal, SecretName: "sp"}, want: "client secret"},
		"a certificate service principal with its Secret uses it in a federated cluster": {
			def: ModeFederated, id: Identity{Type: v1.ServicePrincipalCertificate, SecretName: "sp"}, want: "certificate"},
		"a service principal that asks for federated is exchanged though it has a Secret": {
			def: ModeNode, id: Identity{Type: v1.ServicePrincipal, SecretName: "sp", Mode: ModeFederated}, want: "federated"},
		"a service principal without a Secret follows a federated cluster": {
			def: ModeFederated, id: Identity{Type: v1.ServicePrincipal}, want: "federated"},
		"an invalid mode is the federated cluster default, not node": {
			def: ModeFederated, id: Identity{Type: v1.UserAssignedMSI, Mode: "imds"}, want: "federated"},
		"an invalid mode is the node cluster default": {
			def: ModeNode, id: Identity{Type: v1.UserAssignedMSI, Mode: "imds"}, want: "node IMDS"},
		"a resolved node mode holds in a federated cluster": {
			def: ModeFederated, id: Identity{Type: v1.UserAssignedMSI, Mode: ModeNode}, want: "node IMDS"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o.Default = tc.def
			if _, got := route(o, tc.id); got != tc.want {
				t.Fatalf("route %q, want %q", got, tc.want)
			}
		})
	}
}

package world

import "github.com/podid/podid/internal/cloud"

// ResolvePrincipal turns a reference as a world file writes it (identity
// name, application name, "system/<machine>" or object ID) into an object
// ID of st.
func ResolvePrincipal(st cloud.State, ref string) (string, error) {
	return (&builder{st: st}).principal(ref)
}

// ResolveScope turns a resource ID or a "kind/name" reference as a world
// file writes it (resourceGroup/NAME, identity/NAME, vault/NAME, ...) into
// a resource ID of st.
func ResolveScope(st cloud.State, ref string) (string, error) {
	return (&builder{st: st}).scope(ref)
}

// Package clients holds the client matrix test: real, unmodified IMDS
// clients (azidentity for Go, azure-identity for Python, @azure/identity for
// JavaScript) run inside a pod's network namespace and ask
// http://169.254.169.254/metadata/identity/oauth2/token for a token, reaching
// the real agent through its own iptables rules in a node namespace.
//
// Each client asks with no identity selector, with client_id, with object_id
// and with msi_res_id, for a pod bound to exactly one federated user-assigned
// identity, and must get that identity's token; asked for an identity the
// pod is not bound to, it must get none.
//
// The az CLI is not in the matrix yet: `az login --identity` gets its token
// from the agent but then lists subscriptions through ARM
// (GET /subscriptions), which the embedded cloud does not serve.
package clients

// Package tokens gets Azure AD access tokens for identities on behalf of the
// node agent.
//
// Everything that produces a token implements TokenSource: the node's IMDS
// (classic node mode, user-assigned managed identities), AAD client
// credentials with a client secret or a certificate (service principals),
// and the federated exchange, in which the agent's own Kubernetes
// service-account token is the client assertion. Router picks one of them
// per identity, and Cache wraps any of them with a bounded, refreshing,
// request-coalescing cache. No cache means no wrapping.
//
// The AAD sources speak the v2 token endpoint with plain HTTP rather than
// through azidentity/MSAL: the three of them share one POST, nothing is
// cached twice (MSAL keeps its own cache, which would hide expiry from
// Cache), no OpenID discovery round trip is made before the first token,
// and the transport, CA pool and timeouts are entirely the caller's.
package tokens

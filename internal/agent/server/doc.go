// Package server is the node agent's HTTP surface: the IMDS managed-identity
// token endpoint as pods call it on 169.254.169.254, the /host/token endpoint
// for host components, the paths IMDS answers with 404 (so SDK probes behave
// as on a VM), and the probe handler (/healthz, /readyz).
//
// A token request is decided in this order, failing closed at every step:
//
//  1. The Metadata: true header (400 with the exact IMDS body otherwise).
//  2. The resource parameter (400).
//  3. The caller: the pod whose address the connection comes from
//     (PodResolver). Unknown callers never get a token and are never
//     proxied; hostNetwork callers are refused unless an
//     AzurePodIdentityException covers them; exempt pods pass through to
//     the node's IMDS.
//  4. The identity: selectIdentity picks, from the pod's assignments
//     (IdentityLister), the one the query names, or the only one.
//     While an answer could still change (assignment not yet Assigned, pod
//     not yet known) the handler waits, woken by change notifications, up
//     to Options.AssignmentWait, then answers 503 with Retry-After.
//  5. The token, from a tokens.TokenSource (normally a tokens.Cache).
//
// The decisions are pure functions (selectIdentity, settle); the handler only
// gathers, waits and writes.
package server

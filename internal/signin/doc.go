// Package signin signs people and service principals in to a podid
// cluster with Azure AD, as kubelogin does for AKS: it builds the
// kubeconfig that `podid get-credentials` writes (an exec entry running
// kubelogin or `podid get-token`, or the client-certificate admin user),
// and implements `podid get-token`, a client-go exec credential plugin
// that gets an access token for the AKS server app with the device code
// flow (printing the code on stderr, caching the access and refresh token
// in a 0600 file) or, for a service principal, the client credentials
// grant.
//
// Kubeconfig and argument building are pure (kubeconfig.go); the token
// endpoint calls are in oauth.go and the cache in cache.go.
package signin

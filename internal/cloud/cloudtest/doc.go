// Package cloudtest starts the embedded cloud for a test and hands back what
// real Azure SDK clients need to talk to it: URLs, tenant IDs, a CertPool and
// http.Client trusting its CA, azcore ClientOptions aimed at it, a transport
// that sends 169.254.169.254 to a chosen instance's IMDS listener, a token
// verifier and a test OIDC issuer for federated credentials. For registry
// tests it has an AKS node world, random image pushes, a transport to the
// registries and the flags that aim the node-side ACR commands at the cloud.
// Everything stops when the test ends.
package cloudtest

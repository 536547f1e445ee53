// Package kvreader is podid's stand-in for the cmendibl3/az-keyvault-reader
// sidecar of aad-pod-identity walkthroughs: a small HTTP server inside the
// pod that reads Key Vault secrets with the pod's identity, so that any
// container of the pod can `wget -qO- http://127.0.0.1:8333/secrets/NAME/`.
//
// It gets its tokens the way pod identity intends, from a
// ManagedIdentityCredential, i.e. IMDS at 169.254.169.254, which the node
// agent (nmi) intercepts and answers for the pod's assigned identities.
// AZURE_CLIENT_ID picks one of several.
//
// A read answers the secret's value as text/plain. A failed read answers
// 404 (no such secret) or 502 with a sentence that says which hop failed:
// no token from IMDS (check the pod's aadpodidbinding label), Key Vault's
// refusal with its error code, or Key Vault unreachable. Each read is
// logged with the secret's name and outcome; values and tokens never are.
package kvreader

// Package acrcred gets Azure Container Registry credentials for a node's
// kubelet identity, as AKS's acr-credential-provider does, and checks the
// whole image-pull path step by step for podid check-acr.
//
// The kubelet runs the provider once per image it cannot find credentials
// for: a CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1)
// on stdin, a CredentialProviderResponse on stdout. For an image of a
// registry that ends in an ACR suffix (*.azurecr.io, .cn, .de, .us, or the
// cloud's own), the provider
//
//  1. asks the registry for its challenge (GET /v2/ answers 401 with a
//     Bearer realm and service),
//  2. gets an Azure AD token for the registry audience: from the node's
//     IMDS for the kubelet's managed identity (azure.json
//     userAssignedIdentityID), or with the service principal's secret
//     (aadClientId, aadClientSecret),
//  3. exchanges it at the realm's /oauth2/exchange for an ACR refresh
//     token, and answers it as the password of the null-GUID user, keyed
//     by the registry (and by the mirrored registry with --registry-mirror),
//     plus AKS's anonymous entry "*.azurecr.*".
//
// The exchange does not look at roles: a refresh token comes back for any
// identity of the registry's tenant. Roles decide one step later, when the
// container runtime asks /oauth2/token for a repository-scoped token. That
// is why Check goes on where the provider stops: it asks for the
// repository:<repo>:pull token and fetches the image's manifest, so it never
// reports "can pull" when a pull would fail, and it names the cause and fix
// of each failure (Explain).
//
// Differences from AKS's provider: a service principal's secret is not
// handed to the registry verbatim but exchanged like a managed identity's
// token, so an expired secret fails here with Azure AD's AADSTS7000222
// instead of surfacing later as a bare 401 from the runtime; and the cache
// duration is capped by the refresh token's own lifetime.
//
// Pure decisions (which registry an image belongs to, the response, the
// challenge header, the explanation of a failure) are functions with table
// tests; the HTTP calls are in registry.go and the token sources come from
// package tokens. All network access goes through injectable clients.
package acrcred

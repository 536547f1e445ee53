// Package wiwebhook is podid's Azure AD Workload Identity webhook, a
// drop-in for the one of azure-workload-identity v1.6: a pod labelled
// azure.workload.identity/use: "true" gets a projected ServiceAccount token
// and the environment Azure SDKs read to exchange it for an Azure AD token.
//
// # What it injects
//
// Mutate is a pure function of the pod, its ServiceAccount and Config, and
// does what v1.6 does, with v1.6's names (names.go): the ServiceAccount's
// client-id and tenant-id annotations (tenant-id, even empty, replaces the
// webhook's tenant), the token lifetime from the pod's or else the
// ServiceAccount's service-account-token-expiration annotation (3600 to
// 86400 s, default 3600; anything else refuses the pod with v1.6's message
// plus which annotation to fix), the pod's skip-containers annotation
// (names separated by ";"). Each container and init container not skipped
// gets AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and
// AZURE_AUTHORITY_HOST, each only when the container has no variable of that
// name (a user's value or valueFrom is kept) and the value is not empty,
// plus a read-only mount of the token volume at /var/run/secrets/azure/wi.
// The volume, named azure-workload-identity-reserved-<hash of the pod
// name>, projects a token for audience api://AzureADTokenExchange to
// token/azure-identity-token, so AZURE_FEDERATED_TOKEN_FILE is
// /var/run/secrets/azure/wi/token/azure-identity-token. (v1.5 and older
// mounted /var/run/secrets/azure/tokens/azure-identity-token in a volume
// named azure-identity-token; v1.6 changed both, and so does podid.) A
// second pass replaces the mount and the volume by name and adds nothing,
// which reinvocationPolicy IfNeeded relies on. The golden test pins all
// this against outputs read off v1.6's code.
//
// # The proxy sidecar
//
// v1.6 injects an IMDS proxy sidecar and its init container for pods
// annotated azure.workload.identity/inject-proxy-sidecar, for apps whose
// SDKs only know managed identity (IMDS). podid does not: its node agent
// already answers IMDS for pods an AzureIdentityBinding selects, on every
// node, without a privileged init container per pod. A pod with the
// annotation is admitted with the token and environment as any other and a
// warning saying so; proxy-sidecar-port is ignored, and hostNetwork pods,
// which v1.6 refuses with the annotation, are admitted. v1.6's custom token
// endpoint (AKS-specific flags) is not implemented.
//
// # Warnings
//
// v1.6 never warns. podid adds admission warnings, which kubectl prints and
// client-go hands to its WarningHandler, for the mistakes users make:
//
//   - on labelled pods (the mutating webhook): a ServiceAccount without
//     client-id, an empty tenant-id, skip-containers naming no container
//     (e.g. separated by commas), the proxy sidecar not injected, and
//     ServiceAccount annotations written on the pod;
//   - on every other pod (Advise): workload identity annotations on the pod
//     or a client-id on its ServiceAccount while the label is missing, the
//     label written as an annotation or with another case ("True"), and the
//     label on the ServiceAccount (where v0.x wanted it).
//
// The mutating webhook's objectSelector on the label keeps unlabelled pods
// away from it, as in v1.6, so it cannot warn about them. They reach a
// second webhook instead, in a ValidatingWebhookConfiguration of the same
// name (Manifest): objectSelector "label NotIn (true)", failurePolicy
// Ignore and a 3 s timeout, so it can never block or much delay a pod, and
// it answers allowed with warnings only. It is a validating webhook, not a
// second mutating entry, because it changes nothing: the API server calls
// validating webhooks in parallel, after every mutation, so it sees the
// pod as it will be stored and adds no step to the serial mutating chain.
//
// # Serving
//
// Server serves both webhooks over HTTPS, /healthz and /readyz (ready once
// serving with a valid certificate and a synced ServiceAccount cache) and
// Prometheus /metrics (admissions and their latency by webhook and result,
// the certificate's expiry). The certificate is its own: a self-signed CA
// and a serving certificate in one Secret shared by the replicas
// (rotator). Whichever replica finds the Secret missing or due renews it,
// at two thirds of each certificate's lifetime; it publishes the caBundle
// to both webhook configurations before any replica serves a certificate
// of a new CA, and a replaced CA stays in the bundle until it expires.
package wiwebhook

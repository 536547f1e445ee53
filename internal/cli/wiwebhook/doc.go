// Package wiwebhook is `podid wi-webhook`: it runs the Azure AD Workload
// Identity webhook (internal/wiwebhook) — the admission endpoints over
// HTTPS with a certificate it issues and rotates itself, the probes and the
// metrics — and, as `podid wi-webhook manifest`, prints the webhook
// configurations the API server needs to call it.
//
// Its settings also come from the environment v1.6's ConfigMap sets
// (AZURE_TENANT_ID, AZURE_ENVIRONMENT) and from POD_NAMESPACE, so the
// webhook replaces v1.6's in an existing deployment; flags win.
package wiwebhook

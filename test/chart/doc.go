// Package chart tests the Helm chart charts/podid and the manifest
// deploy/podid.yaml rendered from it: golden renders for several value sets,
// helm lint in strict mode, values.schema.json refusals, the chart's CRDs
// against config/crd, the podid-doctor ClusterRole against
// doctor.ReadRules, the workload-identity webhook's configurations against
// wiwebhook.Manifest and its RBAC against the API server's authorizer, and
// every rendered object accepted by a real API server (server-side dry run,
// strict field validation).
package chart

// Package v1 holds the aadpodidentity.k8s.io/v1 API: AzureIdentity,
// AzureIdentityBinding, AzureAssignedIdentity and AzurePodIdentityException.
//
// The wire format is the one aad-pod-identity shipped, so manifests written
// for it apply unchanged. That includes manifests written before v1.6.0,
// which spell fields in PascalCase (ClientID, ResourceID, TenantId,
// ClientPassword: {Name, Namespace}, AzureIdentity, Selector). A structural
// CRD would silently prune those keys. podid's CRDs instead declare the
// well-known legacy spellings next to the canonical camelCase ones (so the
// API server validates both at apply time) and preserve any other spelling;
// the controller then rewrites every object into canonical camelCase with
// NormalizeObject, keeping every value. See legacy.go.
//
// +kubebuilder:object:generate=true
// +groupName=aadpodidentity.k8s.io
package v1

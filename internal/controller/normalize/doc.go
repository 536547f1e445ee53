// Package normalize is the controller that rewrites AzureIdentity,
// AzureIdentityBinding and AzurePodIdentityException objects written with
// aad-pod-identity's older field spellings (ClientID, ResourceID, Selector,
// ...) into canonical camelCase, keeping every value, and that explains in
// events what it moved, what it could not place, and which fields an
// identity still lacks.
//
// It works on unstructured objects on purpose: a typed decode would drop the
// very keys it exists to move.
package normalize

// Package world reads the declarative YAML world file that seeds the
// embedded cloud: tenants with their subscriptions, resource groups,
// user-assigned identities (and federated credentials), VM scale sets and
// VMs (with system- and user-assigned identities), key vaults (RBAC or
// access-policy mode) and their secrets, applications (service principals
// with secrets and certificates) and role assignments.
//
// Parse reports a bad file with the line and the field at fault, e.g.
//
//	world.yaml:14: tenants[0].subscriptions[0].resourceGroups[0].scaleSets[0].capacity: must be between 1 and 1000
//
// World.State converts a valid world into the cloud's initial State. IDs not
// given in the file are derived deterministically from names, so the same
// file always yields the same client and object IDs.
package world

// Package cloud is the `podid cloud` command: `podid cloud serve` runs the
// embedded Azure identity cloud (package internal/cloud) standalone, seeded
// from a world file, and prints its endpoints and CA bundle path.
// `podid cloud role grant|revoke` and `podid cloud vault-policy set|delete`
// change a running cloud's role assignments and Key Vault access policies
// through its /admin endpoints, as an administrator would with az.
package cloud

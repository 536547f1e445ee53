// Package cloud is the `podid cloud` command: `podid cloud serve` runs the
// embedded Azure identity cloud (package internal/cloud) standalone, seeded
// from a world file, and prints its endpoints and CA bundle path.
package cloud

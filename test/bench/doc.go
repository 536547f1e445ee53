// Package bench holds scale benchmarks on the real control plane. They are
// not run by `go test ./...`; run them with `make bench` (see README).
package bench

// Package faults injects failures into the embedded cloud for tests: extra
// latency, 429 with Retry-After, 5xx, a call dropped with no answer (Abort:
// the connection closed, or the HTTP/2 stream reset), for the next N calls (or every call)
// whose route ("<service> <METHOD> <path>", e.g.
// "arm PATCH /subscriptions/.../virtualMachineScaleSets/vmss") matches a
// regular expression. Rules are managed from Go (Injector) or over HTTP
// (AdminHandler).
package faults

// Package migrate is `podid migrate`: it prints (by default) or applies
// the federated credentials, service-account annotations and pod-template
// labels that move pod-identity workloads to workload identity without
// changing the applications (see package internal/migrate).
package migrate

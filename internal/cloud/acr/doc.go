// Package acr holds the pure decisions of Azure Container Registry's data
// plane as the embedded cloud serves it: parsing the token scopes clients
// ask for ("repository:app/web:pull,push"), deciding which of them a caller
// gets in each role-assignment mode (Grant), building the claims of ACR's
// refresh and access tokens, the registry firewall's decision on a client
// IP (FirewallAllows), mapping a /v2/ request to the scope it needs (Route),
// and ACR's exact error bodies and challenge header.
//
// Nothing here does I/O: package cloud gathers the registry, the caller and
// the RBAC answers, calls these functions and writes what they return.
// The protocol is described in shared/research/acr.md; the texts are ACR's.
package acr

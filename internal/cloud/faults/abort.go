package faults

import "net/http"

// abort ends the call with no answer, as a front end that drops
// connections does: the HTTP server recovers http.ErrAbortHandler without
// logging it and, over HTTP/1, closes the connection before any byte of a
// response; over HTTP/2 it resets the stream (RST_STREAM INTERNAL_ERROR)
// and leaves the connection to other calls. Either way the client's call
// fails with a transport error and no status, which is what an ARM outage
// looks like from azure-sdk-for-go: the controller cannot tell it from
// connection refused, and must not, since neither says when to come back.
//
// It cannot refuse connections: ARM shares its listener with Azure AD
// and the other services, and a refused listener would take them down
// too; scope the rule's Match to the routes that should be unreachable.
func abort() {
	panic(http.ErrAbortHandler)
}

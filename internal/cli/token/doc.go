// Package token is the `podid token` command: it asks a pod's node agent
// for a token exactly as the pod would (GET /metadata/identity/oauth2/token
// with "Metadata: true", from the pod's IP) and prints the decoded claims;
// the raw token only with -o raw.
package token

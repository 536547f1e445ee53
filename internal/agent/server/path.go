package server

import (
	"net/url"
	"path"
	"strings"
)

// pathKind is what a request path asks the agent for.
type pathKind int

const (
	// pathToken is the IMDS token endpoint in a spelling the agent serves.
	pathToken pathKind = iota
	// pathIMDSv2 is an IMDSv2 identity path; the agent answers 404 so
	// clients fall back to v1.
	pathIMDSv2
	// pathIdentity is any other spelling of any path under
	// /metadata/identity: answered by the agent, never passed on.
	pathIdentity
	// pathHostToken is /host/token, with or without the trailing slash
	// the Secrets Store CSI driver's Azure provider sends.
	pathHostToken
	// pathInstance is /metadata/instance or below, spelled canonically.
	pathInstance
	// pathOther is any other canonically spelled path.
	pathOther
	// pathNonCanonical is any other path spelled in a way the node's IMDS
	// might read differently from the agent: answered, never passed on.
	pathNonCanonical
)

// classifyPath reads a request's escaped path (URL.EscapedPath) once, for
// every decision the handler makes. It is the one place that decides which
// spellings exist, so nothing is passed on to the node's IMDS that the
// node might read as an identity path: case, repeated or trailing slashes,
// dot segments, backslashes and percent-encoding are all folded before
// the identity paths are recognised, and only paths already spelled in
// their canonical form may be passed on.
//
// The token path is served as aad-pod-identity served it: /metadata in any
// case, then /identity/oauth2/token exactly.
func classifyPath(escaped string) pathKind {
	// The token path first: every token request takes this branch, and it
	// needs no cleaning.
	if rest, ok := cutPrefixFold(escaped, "/metadata"); ok && rest == tokenPath {
		return pathToken
	}
	canon := canonicalPath(escaped)
	if canon == "/metadata/identity" || strings.HasPrefix(canon, "/metadata/identity/") {
		if rest, ok := cutPrefixFold(escaped, "/metadata"); ok &&
			(rest == "/identity/getplatformmetadata" || rest == "/identity/issuecredential") {
			return pathIMDSv2
		}
		return pathIdentity
	}
	if canon == hostTokenURL && (escaped == hostTokenURL || escaped == hostTokenURL+"/") {
		return pathHostToken
	}
	if !isCanonical(escaped) {
		return pathNonCanonical
	}
	if canon == "/metadata/instance" || strings.HasPrefix(canon, "/metadata/instance/") {
		return pathInstance
	}
	return pathOther
}

// maxUnescapes bounds how often canonicalPath decodes: a path still
// holding escapes after that is treated as an identity path would be by
// anyone decoding further, because its canonical form keeps a '%' and so
// never equals a served path.
const maxUnescapes = 4

// canonicalPath is the lower-case, fully decoded, cleaned form of a path:
// what the most lenient reader could take it to mean.
func canonicalPath(escaped string) string {
	p := escaped
	for range maxUnescapes {
		u, err := url.PathUnescape(p)
		if err != nil || u == p {
			break
		}
		p = u
	}
	p = strings.ReplaceAll(p, "\\", "/")
	p = path.Clean("/" + p)
	return strings.ToLower(p)
}

// isCanonical reports whether a path is spelled as its cleaned self: no
// escapes, no backslash, no empty or dot segment, no trailing slash.
func isCanonical(escaped string) bool {
	return !strings.ContainsAny(escaped, "%\\") && path.Clean(escaped) == escaped && strings.HasPrefix(escaped, "/")
}

func cutPrefixFold(p, prefix string) (string, bool) {
	if len(p) < len(prefix) || !strings.EqualFold(p[:len(prefix)], prefix) {
		return "", false
	}
	rest := p[len(prefix):]
	return rest, rest == "" || rest[0] == '/'
}

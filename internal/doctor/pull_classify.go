package doctor

import (
	"regexp"
	"strings"
)

// PullCause is why the kubelet could not pull an image, as its event
// says. The kubelet passes containerd's error on verbatim, so the words
// are containerd's: ≤1.6 ("unexpected status: 401 Unauthorized") and ≥1.7
// ("unexpected status from GET request to <url>: 401 Unauthorized") say
// the same things in different words, and both are matched.
type PullCause string

// The causes ClassifyPull tells apart.
const (
	// PullNoCredentials: an ACR refused the anonymous token, and no
	// credential was tried: the kubelet's credential provider offered
	// none for the host (not configured, or it failed; its error is only
	// in the kubelet's journal).
	PullNoCredentials PullCause = "no-credentials"
	// PullCredentialsRefused: an ACR refused the token for the
	// credentials the kubelet offered (the kubelet identity's): most
	// often the identity has no role that allows pull (not attached).
	PullCredentialsRefused PullCause = "credentials-refused"
	// PullNotFound: the registry has no such repository or tag. A 401
	// beside it is the anonymous fallback's, and misleading.
	PullNotFound PullCause = "not-found"
	// PullWrongPlatform: the image has no manifest for the node's
	// platform.
	PullWrongPlatform PullCause = "wrong-platform"
	// PullFirewall: an ACR answered 403: its network rules (or disabled
	// public access) refuse the node's address.
	PullFirewall PullCause = "firewall"
	// PullDNS: the registry's host name does not resolve.
	PullDNS PullCause = "dns"
	// PullUnreachable: the connection timed out or was refused.
	PullUnreachable PullCause = "unreachable"
	// PullExternalAuth: a registry other than ACR wants credentials the
	// pod does not give (imagePullSecrets).
	PullExternalAuth PullCause = "external-auth"
	// PullUnknown: none of the above.
	PullUnknown PullCause = "unknown"
)

// PullFailure is one failed pull, read from the kubelet's words.
type PullFailure struct {
	Cause PullCause
	// Image is the reference the kubelet pulled, as the pod names it.
	Image string
	// Host is the registry's host (docker.io for short names);
	// Repository and Tag (or the digest) are the rest of the reference.
	Host, Repository, Tag string
	// ACR says Host is an Azure Container Registry's login server;
	// Registry is then its name.
	ACR      bool
	Registry string
	// AnonymousFallback says the error also carries the 401 of the
	// anonymous token the kubelet tries after the credentials (AKS adds
	// an anonymous entry for *.azurecr.*): beside another error it
	// explains nothing.
	AnonymousFallback bool
	// ClientIP is the address a firewall's 403 names (containerd ≥2.4
	// appends ACR's body), or "".
	ClientIP string
	// Detail is the kubelet's error after `Failed to pull image "<ref>": `.
	Detail string
}

var (
	pullImageRE = regexp.MustCompile(`(?:Failed to pull image|Back-off pulling image) "([^"]+)"`)
	clientIPRE  = regexp.MustCompile(`client with IP '([^']+)' is not allowed access`)
	// acrHostRE is the credential provider's rule for ACR hosts.
	acrHostRE = regexp.MustCompile(`^([a-zA-Z0-9]+)\.azurecr\.(?:io|cn|de|us)$`)
)

// ClassifyPull reads a kubelet message about a pull: a Failed event's
// `Failed to pull image "<ref>": <error>`, a BackOff event's or a
// container's waiting message (`Back-off pulling image "<ref>"`, since
// Kubernetes 1.32 followed by `: ErrImagePull: <error>`). ok is false for
// any other message, or one that names an image but no error.
func ClassifyPull(message string) (PullFailure, bool) {
	m := pullImageRE.FindStringSubmatchIndex(message)
	if m == nil {
		return PullFailure{}, false
	}
	ref := message[m[2]:m[3]]
	detail := strings.TrimPrefix(strings.TrimSpace(message[m[1]:]), ":")
	detail = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(detail), "ErrImagePull:"))
	if detail == "" {
		return PullFailure{}, false
	}
	p := PullFailure{Image: ref, Detail: detail}
	p.Host, p.Repository, p.Tag = splitImage(ref)
	if sm := acrHostRE.FindStringSubmatch(p.Host); sm != nil {
		p.ACR, p.Registry = true, strings.ToLower(sm[1])
	}
	if sm := clientIPRE.FindStringSubmatch(detail); sm != nil {
		p.ClientIP = sm[1]
	}
	p.AnonymousFallback = strings.Contains(detail, "failed to fetch anonymous token") && strings.Contains(detail, "401 Unauthorized")
	p.Cause = pullCause(p, detail)
	return p, true
}

// pullCause decides in order: what the registry said about the image
// (not found) outranks the 401 of the anonymous fallback beside it; a
// refusal of the network or the name outranks credentials.
func pullCause(p PullFailure, detail string) PullCause {
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(detail, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("no match for platform in manifest"):
		return PullWrongPlatform
	case has("code = NotFound", ": not found", "NAME_UNKNOWN", "MANIFEST_UNKNOWN", "manifest unknown"):
		return PullNotFound
	case has("no such host"):
		return PullDNS
	case has("i/o timeout", "context deadline exceeded", "TLS handshake timeout", "connection timed out", "connection refused", "no route to host"):
		return PullUnreachable
	case !p.ACR && has("pull access denied", "insufficient_scope", "401 Unauthorized", "403 Forbidden", "requested access to the resource is denied"):
		return PullExternalAuth
	case has("403 Forbidden", "not allowed access"):
		return PullFirewall
	case has("failed to fetch oauth token"):
		return PullCredentialsRefused
	case has("failed to fetch anonymous token"):
		return PullNoCredentials
	case has("401 Unauthorized"):
		return PullCredentialsRefused
	}
	return PullUnknown
}

// splitImage splits a reference into host, repository and tag (or
// digest) as containerd does: a first part with a dot or a port, or
// localhost, is the host; anything else is Docker Hub's, where a
// one-part name lives under library/.
func splitImage(ref string) (host, repo, tag string) {
	name := ref
	if i := strings.Index(name, "@"); i >= 0 {
		name, tag = name[:i], name[i+1:]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		if tag == "" {
			tag = name[i+1:]
		}
		name = name[:i]
	}
	if tag == "" {
		tag = "latest"
	}
	first, rest, found := strings.Cut(name, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return strings.ToLower(first), rest, tag
	}
	if !found {
		return "docker.io", "library/" + name, tag
	}
	return "docker.io", name, tag
}

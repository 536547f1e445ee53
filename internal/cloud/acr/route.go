package acr

import (
	"net/http"
	"strings"
)

// RouteKind is what a /v2/ path addresses.
type RouteKind int

const (
	// RouteBase is GET /v2/, the challenge endpoint.
	RouteBase RouteKind = iota
	// RouteCatalog is /v2/_catalog.
	RouteCatalog
	// RouteRepository is /v2/<repo>/{manifests,blobs,tags,referrers}/...
	RouteRepository
)

// Route is a /v2/ request decoded: which repository, which resource and
// reference, and the scope a token must grant for it.
type Route struct {
	Kind RouteKind
	// Repository is the repository name (may contain '/').
	Repository string
	// Resource is manifests, blobs, tags or referrers.
	Resource string
	// Reference is the tag or digest after manifests/ or blobs/.
	Reference string
	// Need is the scope the request requires; nil for RouteBase.
	Need *Access
}

// ParseRoute decodes method and path; ok is false for a path that is not
// part of the distribution API.
func ParseRoute(method, path string) (Route, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return Route{}, path == "/v2"
	}
	if rest == "" {
		return Route{Kind: RouteBase}, true
	}
	if rest == "_catalog" {
		return Route{Kind: RouteCatalog, Need: &Access{Type: TypeRegistry, Name: CatalogName, Actions: []string{ActionAll}}}, true
	}
	best := -1
	var resource string
	for _, r := range []string{"manifests", "blobs", "tags", "referrers"} {
		if i := strings.LastIndex(rest, "/"+r+"/"); i > best {
			best, resource = i, r
		}
	}
	if best <= 0 {
		return Route{}, false
	}
	rt := Route{Kind: RouteRepository, Repository: rest[:best], Resource: resource, Reference: rest[best+len(resource)+2:]}
	action := ActionPull
	switch method {
	case http.MethodGet, http.MethodHead:
	case http.MethodDelete:
		action = ActionDelete
	default:
		action = ActionPush
	}
	actions := []string{action}
	if action == ActionPush {
		// Clients ask for pull,push when they push; ACR challenges the same way.
		actions = []string{ActionPull, ActionPush}
	}
	rt.Need = &Access{Type: TypeRepository, Name: rt.Repository, Actions: actions}
	return rt, true
}

// RequiredAction is the one action the request itself performs (push for
// writes, even though the challenge asks for pull,push).
func (r Route) RequiredAction() string {
	if r.Need == nil {
		return ""
	}
	return r.Need.Actions[len(r.Need.Actions)-1]
}

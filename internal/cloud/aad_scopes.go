package cloud

import (
	"slices"
	"strings"
)

// delegatedScope is what a person's token request (device code, password,
// refresh) asks for in its scope parameter.
type delegatedScope struct {
	// resource is the API named by the resource scopes; empty when the
	// request names only OpenID scopes, which Azure AD answers with a
	// Microsoft Graph token.
	resource string
	// names are the permissions asked of resource (".default" included).
	names []string
	// openID asks for an ID token, offline for a refresh token.
	openID, offline bool
}

// oidcScopes are the OpenID Connect scopes MSAL adds to every request.
var oidcScopes = []string{"openid", "profile", "offline_access", "email"}

// parseDelegatedScope splits a scope parameter into its resource, its
// permissions and the OpenID scopes, refusing what Azure AD refuses: no
// scope at all, or scopes of more than one resource.
func parseDelegatedScope(scope string) (delegatedScope, *aadError) {
	var d delegatedScope
	fields := strings.Fields(scope)
	if len(fields) == 0 {
		return d, errMissingParam("scope")
	}
	for _, s := range fields {
		if slices.Contains(oidcScopes, strings.ToLower(s)) {
			d.openID = d.openID || strings.EqualFold(s, "openid")
			d.offline = d.offline || strings.EqualFold(s, "offline_access")
			continue
		}
		res, name := graphAppID, s
		if i := strings.LastIndex(s, "/"); i >= 0 {
			res, name = s[:i], s[i+1:]
		}
		if d.resource != "" && !strings.EqualFold(d.resource, res) {
			return delegatedScope{}, errTwoResources(scope)
		}
		d.resource = res
		d.names = append(d.names, name)
	}
	return d, nil
}

// grant resolves the permissions of d on r: ".default" stands for every
// permission r exposes. It returns the scp claim and the scope echoed in
// the response, which lists each permission under r's name and repeats
// ".default" when it was asked (MSAL treats an unlisted scope as declined).
func (d delegatedScope) grant(r resourceApp, client string) (scp, echo string, err *aadError) {
	var perms []string
	add := func(p string) {
		if !slices.ContainsFunc(perms, func(q string) bool { return strings.EqualFold(p, q) }) {
			perms = append(perms, p)
		}
	}
	askedDefault := false
	for _, n := range d.names {
		if n == ".default" {
			askedDefault = true
			for _, p := range r.scopes {
				add(p)
			}
			continue
		}
		i := slices.IndexFunc(r.scopes, func(p string) bool { return strings.EqualFold(p, n) })
		if i < 0 {
			return "", "", errUnknownScope(client, n, r.id)
		}
		add(r.scopes[i])
	}
	echoed := make([]string, 0, len(perms)+1)
	for _, p := range perms {
		echoed = append(echoed, scopeName(r.id, p))
	}
	if askedDefault {
		echoed = append(echoed, scopeName(r.id, ".default"))
	}
	return strings.Join(perms, " "), strings.Join(echoed, " "), nil
}

// scopeName writes permission p of resource id as Azure AD echoes it:
// Microsoft Graph's by bare name, others as "<resource>/<permission>".
func scopeName(id, p string) string {
	if id == graphAppID {
		return p
	}
	return id + "/" + p
}

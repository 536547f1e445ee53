package cloud

import (
	"slices"
	"strings"
)

// User is a member (work account) of one tenant's directory. Password is
// what resource-owner password sign-ins and device-code approvals check.
type User struct {
	TenantID string `json:"tenantId"`
	ObjectID string `json:"objectId"`
	// UPN is the user principal name, e.g. alice@contoso.com; unique across
	// tenants, compared case-insensitively.
	UPN         string `json:"userPrincipalName"`
	DisplayName string `json:"displayName"`
	Password    string `json:"password"`
	// Disabled users cannot sign in (AADSTS50057).
	Disabled bool `json:"disabled,omitempty"`
}

// Group is a security group. Members are object IDs of users, service
// principals (applications, managed identities) and other groups.
type Group struct {
	TenantID string   `json:"tenantId"`
	ObjectID string   `json:"objectId"`
	Name     string   `json:"displayName"`
	Members  []string `json:"members,omitempty"`
}

// The well-known applications of Azure Kubernetes Service's Azure AD
// integration. They are Microsoft's multi-tenant apps, so every tenant has
// their service principals: kubelogin signs people in with the public client
// and asks for tokens whose audience is the server app.
const (
	// AKSServerAppID is "Azure Kubernetes Service AAD Server", the audience
	// of the tokens an AKS API server accepts.
	AKSServerAppID = "6dae42f8-4368-4678-94ff-3960e28e3630"
	// AKSClientAppID is "Azure Kubernetes Service AAD Client", the public
	// client kubelogin uses for device code, interactive and ROPC sign-in.
	AKSClientAppID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
)

// maxGroupsInToken is how many group object IDs Azure AD puts in a JWT
// access or ID token; past it the token carries an overage indicator
// instead (_claim_names/_claim_sources) and the resource asks Graph.
const maxGroupsInToken = 200

// resourceApp is an API people can get delegated tokens for.
type resourceApp struct {
	// id is how the resource is named in scopes (app ID or identifier URI).
	id string
	// name is the display name used in refusals.
	name string
	// scopes are the delegated permissions a ".default" request grants.
	scopes []string
	// groups is true when the app's manifest asks for group claims
	// (groupMembershipClaims), as the AKS server app does.
	groups bool
}

// firstPartyResources are Microsoft APIs present in every tenant.
var firstPartyResources = []resourceApp{
	{id: AKSServerAppID, name: "Azure Kubernetes Service AAD Server", scopes: []string{"user.read"}, groups: true},
	{id: "https://management.azure.com", name: "Windows Azure Service Management API", scopes: []string{"user_impersonation"}},
	{id: "https://management.core.windows.net/", name: "Windows Azure Service Management API", scopes: []string{"user_impersonation"}},
	{id: "https://vault.azure.net", name: "Azure Key Vault", scopes: []string{"user_impersonation"}},
	{id: "https://storage.azure.com", name: "Azure Storage", scopes: []string{"user_impersonation"}},
	{id: graphAppID, name: "Microsoft Graph", scopes: []string{"User.Read", "profile", "openid", "email"}},
	{id: "https://graph.microsoft.com", name: "Microsoft Graph", scopes: []string{"User.Read", "profile", "openid", "email"}},
}

// graphAppID is Microsoft Graph, the resource of a request that names only
// OpenID scopes.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// publicClientApp is a first-party public client present in every tenant.
type publicClientApp struct {
	appID string
	name  string
}

var firstPartyPublicClients = []publicClientApp{
	{appID: AKSClientAppID, name: "Azure Kubernetes Service AAD Client"},
	{appID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", name: "Microsoft Azure CLI"},
}

// firstPartyPublicClient reports whether appID is a well-known public client.
func firstPartyPublicClient(appID string) (publicClientApp, bool) {
	for _, p := range firstPartyPublicClients {
		if strings.EqualFold(p.appID, appID) {
			return p, true
		}
	}
	return publicClientApp{}, false
}

// transitiveGroups returns the object IDs of every group memberID belongs
// to directly or through nested groups, sorted. Cycles are tolerated.
func transitiveGroups(groups []*Group, memberID string) []string {
	seen := map[string]bool{}
	queue := []string{strings.ToLower(memberID)}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, g := range groups {
			gid := strings.ToLower(g.ObjectID)
			if seen[gid] || !slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, id) }) {
				continue
			}
			seen[gid] = true
			queue = append(queue, gid)
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// groupClaims returns the claims that carry a principal's groups in a token
// for a resource that asks for group claims: "groups" with up to
// maxGroupsInToken IDs, or past that Azure AD's overage indicator, which
// points the resource at the directory to read the memberships itself.
func groupClaims(tenantID, objectID string, groups []string) map[string]any {
	if len(groups) == 0 {
		return nil
	}
	if len(groups) <= maxGroupsInToken {
		return map[string]any{"groups": groups}
	}
	return map[string]any{
		"_claim_names": map[string]string{"groups": "src1"},
		"_claim_sources": map[string]any{"src1": map[string]string{
			"endpoint": "https://graph.windows.net/" + tenantID + "/users/" + objectID + "/getMemberObjects",
		}},
	}
}

// userByUPNLocked finds a user by UPN in any tenant.
func (s *store) userByUPNLocked(upn string) *User {
	for _, u := range s.st.Users {
		if strings.EqualFold(u.UPN, upn) {
			return u
		}
	}
	return nil
}

// userByObjectLocked finds a user by object ID within tenant.
func (s *store) userByObjectLocked(tenant, objectID string) *User {
	for _, u := range s.st.Users {
		if strings.EqualFold(u.ObjectID, objectID) && strings.EqualFold(u.TenantID, tenant) {
			return u
		}
	}
	return nil
}

// knownDomainLocked reports whether any user's UPN is in domain.
func (s *store) knownDomainLocked(domain string) bool {
	for _, u := range s.st.Users {
		if _, d, ok := strings.Cut(u.UPN, "@"); ok && strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// groupsOfLocked is the transitive group membership of objectID in tenant.
func (s *store) groupsOfLocked(tenant, objectID string) []string {
	var inTenant []*Group
	for _, g := range s.st.Groups {
		if strings.EqualFold(g.TenantID, tenant) {
			inTenant = append(inTenant, g)
		}
	}
	return transitiveGroups(inTenant, objectID)
}

// resourceLocked resolves the resource a scope names: a first-party API or
// an application of tenant by app ID or api://<app ID>.
func (s *store) resourceLocked(tenant, id string) (resourceApp, bool) {
	for _, r := range firstPartyResources {
		if strings.EqualFold(strings.TrimRight(r.id, "/"), strings.TrimRight(id, "/")) {
			r.id = id
			return r, true
		}
	}
	appID := strings.TrimPrefix(id, "api://")
	if a := s.appLocked(tenant, appID); a != nil {
		return resourceApp{id: id, name: a.Name, scopes: []string{"user_impersonation"}}, true
	}
	return resourceApp{}, false
}

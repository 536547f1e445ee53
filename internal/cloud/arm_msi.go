package cloud

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

const (
	identityType = "Microsoft.ManagedIdentity/userAssignedIdentities"
	ficType      = identityType + "/federatedIdentityCredentials"
	// MaxFederatedCredentials is Azure's limit per identity or application.
	MaxFederatedCredentials = 20
)

var ficNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)

func identityJSON(i *Identity) map[string]any {
	return map[string]any{"id": i.ID, "name": i.Name, "type": identityType, "location": i.Location, "tags": tagsOrEmpty(i.Tags),
		"properties": map[string]string{"tenantId": i.TenantID, "principalId": i.PrincipalID, "clientId": i.ClientID}}
}

func ficJSON(i *Identity, f FederatedCredential) map[string]any {
	return map[string]any{"id": i.ID + "/federatedIdentityCredentials/" + f.Name, "name": f.Name, "type": ficType,
		"properties": map[string]any{"issuer": f.Issuer, "subject": f.Subject, "audiences": f.Audiences}}
}

func tagsOrEmpty(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}

func (c *Cloud) serveIdentities(call *armCall, sub, rg string, rest []string) {
	base := resourceID(sub, rg, "Microsoft.ManagedIdentity", "userAssignedIdentities", "")
	base = strings.TrimSuffix(base, "/")
	switch {
	case len(rest) == 0:
		c.listInGroup(call, identityType+"/read", sub, rg, func() []map[string]any {
			var out []map[string]any
			for _, i := range c.store.st.Identities {
				if strings.EqualFold(i.SubscriptionID, sub) && strings.EqualFold(i.ResourceGroup, rg) {
					out = append(out, identityJSON(i))
				}
			}
			return out
		})
	case len(rest) == 1:
		c.serveIdentity(call, sub, rg, rest[0], base+"/"+rest[0])
	case len(rest) >= 2 && strings.EqualFold(rest[1], "federatedIdentityCredentials") && len(rest) <= 3:
		c.serveFICs(call, rg, base+"/"+rest[0], rest[2:])
	default:
		armError(call.w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace 'Microsoft.ManagedIdentity'.")
	}
}

func (c *Cloud) serveIdentity(call *armCall, sub, rg, name, id string) {
	switch call.r.Method {
	case http.MethodGet:
		if !c.authorize(call, identityType+"/read", id) {
			return
		}
		c.store.mu.Lock()
		i := c.store.identityLocked(id)
		var out map[string]any
		if i != nil {
			out = identityJSON(i)
		}
		c.store.mu.Unlock()
		if out == nil {
			c.resourceNotFound(call, rg, identityType, name)
			return
		}
		writeJSON(call.w, http.StatusOK, out)
	case http.MethodPut, http.MethodPatch:
		if !c.authorize(call, identityType+"/write", id) {
			return
		}
		var body struct {
			Location string            `json:"location"`
			Tags     map[string]string `json:"tags"`
		}
		if !decodeBody(call, &body) {
			return
		}
		i, created, err := c.PutIdentity(sub, rg, name, body.Location, body.Tags)
		if err != nil {
			groupNotFound(call, rg)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(call.w, status, identityJSON(&i))
	case http.MethodDelete:
		if !c.authorize(call, identityType+"/delete", id) {
			return
		}
		c.store.mu.Lock()
		found := false
		for k, i := range c.store.st.Identities {
			if strings.EqualFold(i.ID, id) {
				c.store.st.Identities = append(c.store.st.Identities[:k], c.store.st.Identities[k+1:]...)
				found = true
				c.store.dirty()
				break
			}
		}
		c.store.mu.Unlock()
		if found {
			call.w.WriteHeader(http.StatusOK)
			return
		}
		call.w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(call)
	}
}

// PutIdentity creates (with fresh client and principal IDs) or updates a
// user-assigned identity. The resource group must exist.
func (c *Cloud) PutIdentity(sub, rg, name, location string, tags map[string]string) (Identity, bool, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	g := c.store.groupLocked(sub, rg)
	s, ok := c.store.subscriptionLocked(sub)
	if g == nil || !ok {
		return Identity{}, false, fmt.Errorf("resource group %s/%s not found", sub, rg)
	}
	id := resourceID(sub, g.Name, "Microsoft.ManagedIdentity", "userAssignedIdentities", name)
	defer c.store.dirty()
	if i := c.store.identityLocked(id); i != nil {
		if location != "" {
			i.Location = location
		}
		if tags != nil {
			i.Tags = tags
		}
		return *i, false, nil
	}
	if location == "" {
		location = g.Location
	}
	i := &Identity{ID: id, Name: name, SubscriptionID: sub, ResourceGroup: g.Name, Location: location, TenantID: s.TenantID,
		ClientID: uuid.NewString(), PrincipalID: uuid.NewString(), Tags: tags}
	c.store.st.Identities = append(c.store.st.Identities, i)
	return *i, true, nil
}

func (c *Cloud) serveFICs(call *armCall, rg, identityID string, rest []string) {
	scope := identityID + "/federatedIdentityCredentials"
	if len(rest) == 1 {
		scope += "/" + rest[0]
	}
	action := map[string]string{http.MethodGet: "read", http.MethodPut: "write", http.MethodDelete: "delete"}[call.r.Method]
	if action == "" || (len(rest) == 0 && call.r.Method != http.MethodGet) {
		methodNotAllowed(call)
		return
	}
	if !c.authorize(call, ficType+"/"+action, scope) {
		return
	}
	if len(rest) == 0 {
		list, err := c.FederatedCredentials(identityID)
		if err != nil {
			writeFICError(call, err)
			return
		}
		writeJSON(call.w, http.StatusOK, map[string]any{"value": list})
		return
	}
	name := rest[0]
	switch call.r.Method {
	case http.MethodGet:
		f, err := c.FederatedCredential(identityID, name)
		if err != nil {
			writeFICError(call, err)
			return
		}
		writeJSON(call.w, http.StatusOK, f)
	case http.MethodDelete:
		deleted, err := c.DeleteFederatedCredential(identityID, name)
		switch {
		case err != nil:
			writeFICError(call, err)
		case deleted:
			call.w.WriteHeader(http.StatusOK)
		default:
			call.w.WriteHeader(http.StatusNoContent)
		}
	case http.MethodPut:
		var body struct {
			Properties struct {
				Issuer    string   `json:"issuer"`
				Subject   string   `json:"subject"`
				Audiences []string `json:"audiences"`
			} `json:"properties"`
		}
		if !decodeBody(call, &body) {
			return
		}
		f := FederatedCredential{Name: name, Issuer: body.Properties.Issuer, Subject: body.Properties.Subject, Audiences: body.Properties.Audiences}
		created, err := c.SetFederatedCredential(identityID, f)
		if err != nil {
			writeFICError(call, err)
			return
		}
		out, err := c.FederatedCredential(identityID, name)
		if err != nil {
			writeFICError(call, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(call.w, status, out)
	}
}

// writeFICError answers a federated credential refusal in ARM's shape.
func writeFICError(call *armCall, err error) {
	if fe, ok := AsFederatedCredentialError(err); ok {
		armError(call.w, fe.Status, fe.Code, fe.Message)
		return
	}
	armError(call.w, http.StatusInternalServerError, "InternalServerError", err.Error())
}

// ValidateFederatedCredential checks f against Azure's rules given the
// existing credentials (replacing index self, or -1 for a new one). It
// returns Azure's message, or "" when f is acceptable.
func ValidateFederatedCredential(existing []FederatedCredential, f FederatedCredential, self int) string {
	switch {
	case !ficNameRE.MatchString(f.Name):
		return fmt.Sprintf("The federated identity credential name '%s' is invalid. It must be 3-120 characters, start with a letter or number, and contain only letters, numbers, hyphens and underscores.", f.Name)
	case len(f.Audiences) != 1:
		return "Federated identity credentials must have exactly one audience."
	case f.Issuer == "" || !strings.HasPrefix(f.Issuer, "https://") || len(f.Issuer) > 600:
		return fmt.Sprintf("The issuer '%s' is invalid. It must be an https URL of at most 600 characters.", f.Issuer)
	case f.Subject == "" || len(f.Subject) > 600:
		return "The subject is invalid. It must be 1-600 characters."
	case self < 0 && len(existing) >= MaxFederatedCredentials:
		return fmt.Sprintf("Too many Federated Identity Credentials are configured for this Managed Identity. The limit is %d.", MaxFederatedCredentials)
	}
	for k, e := range existing {
		if k != self && e.Issuer == f.Issuer && e.Subject == f.Subject {
			return "Issuer and subject combination already exists for this Managed Identity."
		}
	}
	return ""
}

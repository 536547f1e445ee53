package cloud

import (
	"errors"
	"net/http"
	"strings"
)

// FederatedCredentialError is a refusal of a federated credential change,
// carrying the HTTP status and ARM error code Azure answers with, so the
// admin API and ARM tell the user the same thing.
type FederatedCredentialError struct {
	Status  int
	Code    string
	Message string
}

func (e *FederatedCredentialError) Error() string { return e.Message }

// SetFederatedCredential creates or replaces (by name, case-insensitively)
// a federated credential of the user-assigned identity identityID, with the
// checks ARM applies (name, issuer, subject, one audience, the per-identity
// limit, unique issuer and subject). It reports whether it was created.
func (c *Cloud) SetFederatedCredential(identityID string, f FederatedCredential) (bool, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	i := c.store.identityLocked(identityID)
	if i == nil {
		return false, identityNotFound(identityID)
	}
	idx := ficIndex(i.Federated, f.Name)
	if msg := ValidateFederatedCredential(i.Federated, f, idx); msg != "" {
		return false, &FederatedCredentialError{Status: http.StatusBadRequest, Code: "BadRequest", Message: msg}
	}
	if idx < 0 {
		i.Federated = append(i.Federated, f)
	} else {
		i.Federated[idx] = f
	}
	c.store.dirty()
	return idx < 0, nil
}

// DeleteFederatedCredential removes a federated credential by name; like ARM
// it is no error when the credential does not exist (deleted reports it).
func (c *Cloud) DeleteFederatedCredential(identityID, name string) (bool, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	i := c.store.identityLocked(identityID)
	if i == nil {
		return false, identityNotFound(identityID)
	}
	idx := ficIndex(i.Federated, name)
	if idx < 0 {
		return false, nil
	}
	i.Federated = append(i.Federated[:idx], i.Federated[idx+1:]...)
	c.store.dirty()
	return true, nil
}

// FederatedCredentials lists an identity's federated credentials as ARM
// returns them (id, name, type, properties).
func (c *Cloud) FederatedCredentials(identityID string) ([]map[string]any, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	i := c.store.identityLocked(identityID)
	if i == nil {
		return nil, identityNotFound(identityID)
	}
	out := make([]map[string]any, 0, len(i.Federated))
	for _, f := range i.Federated {
		out = append(out, ficJSON(i, f))
	}
	return out, nil
}

// FederatedCredential returns one credential as ARM returns it.
func (c *Cloud) FederatedCredential(identityID, name string) (map[string]any, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	i := c.store.identityLocked(identityID)
	if i == nil {
		return nil, identityNotFound(identityID)
	}
	idx := ficIndex(i.Federated, name)
	if idx < 0 {
		return nil, federatedCredentialNotFound(i, name)
	}
	return ficJSON(i, i.Federated[idx]), nil
}

// federatedCredentialNotFound is ARM's answer to a GET of a credential that
// does not exist.
func federatedCredentialNotFound(i *Identity, name string) error {
	return &FederatedCredentialError{Status: http.StatusNotFound, Code: "ResourceNotFound", Message: resourceNotFoundMessage(i.ResourceGroup, ficType, i.Name+"/"+name)}
}

func identityNotFound(identityID string) error {
	rg, name := resourceGroupAndName(identityID)
	return &FederatedCredentialError{Status: http.StatusNotFound, Code: "ResourceNotFound", Message: resourceNotFoundMessage(rg, identityType, name)}
}

// resourceGroupAndName picks the resource group and last name of an ARM ID.
func resourceGroupAndName(id string) (string, string) {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	rg := ""
	for k := 0; k+1 < len(segs); k++ {
		if strings.EqualFold(segs[k], "resourceGroups") {
			rg = segs[k+1]
		}
	}
	return rg, segs[len(segs)-1]
}

func ficIndex(list []FederatedCredential, name string) int {
	for k, f := range list {
		if strings.EqualFold(f.Name, name) {
			return k
		}
	}
	return -1
}

// AsFederatedCredentialError unwraps err into a FederatedCredentialError.
func AsFederatedCredentialError(err error) (*FederatedCredentialError, bool) {
	var fe *FederatedCredentialError
	ok := errors.As(err, &fe)
	return fe, ok
}

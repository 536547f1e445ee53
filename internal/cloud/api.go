package cloud

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Identity returns a user-assigned identity by resource ID.
func (c *Cloud) Identity(id string) (Identity, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	if i := c.store.identityLocked(id); i != nil {
		return *i, true
	}
	return Identity{}, false
}

// IdentityByName returns the first user-assigned identity called name.
func (c *Cloud) IdentityByName(name string) (Identity, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	for _, i := range c.store.st.Identities {
		if strings.EqualFold(i.Name, name) {
			return *i, true
		}
	}
	return Identity{}, false
}

// Application returns an application by app ID or name.
func (c *Cloud) Application(appIDOrName string) (Application, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	for _, a := range c.store.st.Applications {
		if strings.EqualFold(a.AppID, appIDOrName) || strings.EqualFold(a.Name, appIDOrName) {
			return *a, true
		}
	}
	return Application{}, false
}

// Machine returns a VM or VMSS by resource ID or name.
func (c *Cloud) Machine(idOrName string) (Machine, bool) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	for _, m := range c.store.st.Machines {
		if strings.EqualFold(m.ID, idOrName) || strings.EqualFold(m.Name, idOrName) {
			cp := *m
			cp.UserAssigned = append([]string(nil), m.UserAssigned...)
			return cp, true
		}
	}
	return Machine{}, false
}

// MachineIdentities returns the user-assigned identity IDs of a VM or VMSS
// (by resource ID or name).
func (c *Cloud) MachineIdentities(idOrName string) []string {
	m, _ := c.Machine(idOrName)
	return m.UserAssigned
}

// PatchCount is how many identity writes (PATCH or PUT) a VM or VMSS has accepted.
func (c *Cloud) PatchCount(idOrName string) int {
	m, ok := c.Machine(idOrName)
	if !ok {
		return 0
	}
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	return c.store.patches[lower(m.ID)]
}

// CreateApplication registers an app (service principal) in tenant with an
// optional secret expiring at end (zero means never).
func (c *Cloud) CreateApplication(tenant, name, secret string, end time.Time) (Application, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	if _, ok := c.store.tenantLocked(tenant); !ok {
		return Application{}, fmt.Errorf("create application %s: tenant %s not found", name, tenant)
	}
	a := &Application{TenantID: tenant, Name: name, AppID: uuid.NewString(), ObjectID: uuid.NewString()}
	if secret != "" {
		a.Secrets = []PasswordCredential{{KeyID: uuid.NewString(), Value: secret, EndDate: end}}
	}
	c.store.st.Applications = append(c.store.st.Applications, a)
	c.store.dirty()
	return *a, nil
}

// AddAppCertificate registers cert as a credential of app (by app ID).
func (c *Cloud) AddAppCertificate(appID string, cert *x509.Certificate) error {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	for _, a := range c.store.st.Applications {
		if strings.EqualFold(a.AppID, appID) {
			a.Certificates = append(a.Certificates, CertificateCredential{KeyID: uuid.NewString(), DER: cert.Raw, End: cert.NotAfter})
			c.store.dirty()
			return nil
		}
	}
	return fmt.Errorf("add certificate: application %s not found", appID)
}

// AddFederatedCredential adds a federated credential to a user-assigned
// identity (by resource ID) or an application (by app ID), with Azure's checks.
func (c *Cloud) AddFederatedCredential(owner string, f FederatedCredential) error {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	var list *[]FederatedCredential
	if i := c.store.identityLocked(owner); i != nil {
		list = &i.Federated
	}
	for _, a := range c.store.st.Applications {
		if strings.EqualFold(a.AppID, owner) {
			list = &a.Federated
		}
	}
	if list == nil {
		return fmt.Errorf("add federated credential %s: owner %s not found", f.Name, owner)
	}
	if msg := ValidateFederatedCredential(*list, f, -1); msg != "" {
		return fmt.Errorf("add federated credential %s: %s", f.Name, msg)
	}
	*list = append(*list, f)
	c.store.dirty()
	return nil
}

// SetMachineIdentities replaces the user-assigned identities of a VM or VMSS
// (by resource ID or name) without authorization checks, as a test fixture
// or an administrator would. Unknown identity IDs are refused.
func (c *Cloud) SetMachineIdentities(idOrName string, identityIDs []string) (Machine, error) {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	var m *Machine
	for _, x := range c.store.st.Machines {
		if strings.EqualFold(x.ID, idOrName) || strings.EqualFold(x.Name, idOrName) {
			m = x
		}
	}
	if m == nil {
		return Machine{}, fmt.Errorf("set machine identities: machine %s not found", idOrName)
	}
	for _, id := range identityIDs {
		if c.store.identityLocked(id) == nil {
			return Machine{}, fmt.Errorf("set machine identities on %s: identity %s not found", m.Name, id)
		}
	}
	m.UserAssigned = append([]string(nil), identityIDs...)
	c.store.dirty()
	return *m, nil
}

package cloud

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultSecretYears is how long a secret from ResetAppSecret lasts when
// no years are given, as az ad sp credential reset's --years default.
const DefaultSecretYears = 1

// AdminSecretReset is the body of POST /admin/applications/{app}/secrets:
// az ad sp credential reset's --append and --years.
type AdminSecretReset struct {
	// Append keeps the application's other secrets; false replaces them.
	Append bool `json:"append"`
	// Years is the new secret's lifetime; 0 means DefaultSecretYears.
	Years int `json:"years,omitempty"`
}

// AdminSecretResult is az ad sp credential reset's output: the new secret
// is shown once, here.
type AdminSecretResult struct {
	AppID    string    `json:"appId"`
	Password string    `json:"password"`
	Tenant   string    `json:"tenant"`
	EndDate  time.Time `json:"endDateTime"`
}

// adminAppHandlers serves what az ad sp credential reset does:
//
//	POST /admin/applications/{app}/secrets   AdminSecretReset → AdminSecretResult
func (c *Cloud) adminAppHandlers(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/applications/{app}/secrets", func(w http.ResponseWriter, r *http.Request) {
		var req AdminSecretReset
		if !decodeAdmin(w, r, &req) {
			return
		}
		res, err := c.ResetAppSecret(r.PathValue("app"), req)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

// ResetAppSecret gives the application (app ID or name) a new random
// secret valid for req.Years from now, keeping its other secrets only
// with req.Append, as az ad sp credential reset does.
func (c *Cloud) ResetAppSecret(appIDOrName string, req AdminSecretReset) (AdminSecretResult, error) {
	years := req.Years
	if years == 0 {
		years = DefaultSecretYears
	}
	if years < 0 {
		return AdminSecretResult{}, fmt.Errorf("reset the secret of %s: years must be positive, got %d", appIDOrName, years)
	}
	b := make([]byte, 30)
	if _, err := rand.Read(b); err != nil {
		return AdminSecretResult{}, fmt.Errorf("reset the secret of %s: %w", appIDOrName, err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	for _, a := range c.store.st.Applications {
		if !strings.EqualFold(a.AppID, appIDOrName) && !strings.EqualFold(a.Name, appIDOrName) {
			continue
		}
		cred := PasswordCredential{KeyID: uuid.NewString(), Value: secret, EndDate: c.now().AddDate(years, 0, 0).UTC()}
		if req.Append {
			a.Secrets = append(a.Secrets, cred)
		} else {
			a.Secrets = []PasswordCredential{cred}
		}
		c.store.dirty()
		return AdminSecretResult{AppID: a.AppID, Password: secret, Tenant: a.TenantID, EndDate: cred.EndDate}, nil
	}
	return AdminSecretResult{}, fmt.Errorf("reset the secret of %s: no application with that app ID or name; az ad sp list --display-name NAME finds it", appIDOrName)
}

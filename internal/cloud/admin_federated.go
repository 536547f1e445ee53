package cloud

import (
	"net/http"
)

// AdminFederatedCredential is the body of the admin federated-credential
// endpoints: a credential of the user-assigned identity Identity (its
// resource ID). Delete reads only Identity and Name.
type AdminFederatedCredential struct {
	Identity  string   `json:"identity"`
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer,omitempty"`
	Subject   string   `json:"subject,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
}

// adminFederatedHandlers serves what `az identity federated-credential` does,
// as an administrator, with ARM's checks and texts:
//
//	GET    /admin/federatedCredentials?identity=ID    list (ARM's JSON)
//	PUT    /admin/federatedCredentials                create or update
//	DELETE /admin/federatedCredentials                delete; {"deleted": bool}
//
// Refusals answer {"error": message, "code": ARM code} with ARM's status.
func (c *Cloud) adminFederatedHandlers(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/federatedCredentials", func(w http.ResponseWriter, r *http.Request) {
		list, err := c.FederatedCredentials(r.URL.Query().Get("identity"))
		if err != nil {
			writeAdminFICError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("PUT /admin/federatedCredentials", func(w http.ResponseWriter, r *http.Request) {
		var a AdminFederatedCredential
		if !decodeAdmin(w, r, &a) {
			return
		}
		created, err := c.SetFederatedCredential(a.Identity, FederatedCredential{Name: a.Name, Issuer: a.Issuer, Subject: a.Subject, Audiences: a.Audiences})
		if err != nil {
			writeAdminFICError(w, err)
			return
		}
		out, err := c.FederatedCredential(a.Identity, a.Name)
		if err != nil {
			writeAdminFICError(w, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(w, status, out)
	})
	mux.HandleFunc("DELETE /admin/federatedCredentials", func(w http.ResponseWriter, r *http.Request) {
		var a AdminFederatedCredential
		if !decodeAdmin(w, r, &a) {
			return
		}
		deleted, err := c.DeleteFederatedCredential(a.Identity, a.Name)
		if err != nil {
			writeAdminFICError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"deleted": deleted})
	})
}

func writeAdminFICError(w http.ResponseWriter, err error) {
	if fe, ok := AsFederatedCredentialError(err); ok {
		writeJSON(w, fe.Status, map[string]string{"error": fe.Message, "code": fe.Code})
		return
	}
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
}

package cloud

import (
	"net/http"
	"strings"
	"time"

	"github.com/podid/podid/internal/imds"
)

func imdsError(w http.ResponseWriter, status int, kind, desc string) {
	writeJSON(w, status, map[string]string{"error": kind, "error_description": desc})
}

// imdsHandler serves the managed-identity endpoint of one VM or VMSS
// instance. Identities are read live from the machine, so an ARM PATCH takes
// effect on the next request.
func (c *Cloud) imdsHandler(machineID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.ToLower(r.URL.Path)
		switch path {
		case "/metadata/identity/oauth2/token":
		case "/metadata/identity/getplatformmetadata", "/metadata/identity/issuecredential":
			http.NotFound(w, r)
			return
		default:
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Metadata") != "true" {
			imdsError(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			imdsError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed")
			return
		}
		q := r.URL.Query()
		if q.Get("api-version") == "" {
			imdsError(w, http.StatusBadRequest, "invalid_request", "Required api-version parameter not specified")
			return
		}
		resource := q.Get("resource")
		if resource == "" {
			imdsError(w, http.StatusBadRequest, "invalid_request", "Required audience parameter not specified")
			return
		}
		sel, val, ok := imdsSelector(q)
		if !ok {
			imdsError(w, http.StatusBadRequest, "invalid_request", "Only one of client_id, object_id, msi_res_id or mi_res_id may be specified")
			return
		}
		c.store.mu.Lock()
		m := c.store.machineLocked(machineID)
		var ids []Principal
		if m != nil {
			ids = c.store.machineIdentitiesLocked(m)
		}
		c.store.mu.Unlock()
		p, status, desc := pickIdentity(ids, m != nil && m.System != nil, sel, val)
		if status != 0 {
			imdsError(w, status, "invalid_request", desc)
			return
		}
		tok, exp, err := c.issueToken(p, resource, "2", imdsTokenLifetime)
		if err != nil {
			imdsError(w, http.StatusInternalServerError, "unknown", "Failed to retrieve token from the Active directory")
			return
		}
		c.metrics.tokens.WithLabelValues("imds").Inc()
		now := c.now()
		writeJSON(w, http.StatusOK, imds.NewToken(tok, p.ClientID, resource, "Bearer", exp, now.Add(-5*time.Minute), now))
	})
}

// imdsSelector returns which identity selector the query uses; ok is false
// when more than one is present.
func imdsSelector(q map[string][]string) (sel, val string, ok bool) {
	n := 0
	for _, k := range []string{"client_id", "object_id", "msi_res_id", "mi_res_id"} {
		if v := q[k]; len(v) > 0 && v[0] != "" {
			n++
			sel, val = k, v[0]
		}
	}
	return sel, val, n <= 1
}

// pickIdentity chooses among a machine's identities. With no selector it
// uses the system-assigned identity, or the only user-assigned one.
func pickIdentity(ids []Principal, hasSystem bool, sel, val string) (Principal, int, string) {
	if sel == "" {
		switch {
		case hasSystem:
			return ids[0], 0, ""
		case len(ids) == 1:
			return ids[0], 0, ""
		case len(ids) > 1:
			return Principal{}, http.StatusBadRequest, "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"
		default:
			return Principal{}, http.StatusBadRequest, "Identity not found"
		}
	}
	for _, p := range ids {
		var have string
		switch sel {
		case "client_id":
			have = p.ClientID
		case "object_id":
			have = p.ObjectID
		default:
			have = p.ResourceID
		}
		if strings.EqualFold(have, val) {
			return p, 0, ""
		}
	}
	return Principal{}, http.StatusBadRequest, "Identity not found"
}

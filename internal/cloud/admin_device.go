package cloud

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// DeviceDecision is the body of the admin device-code endpoints: the
// person (UPN) approving or declining the sign-in with the code a client
// printed. Password, when set, is checked as the sign-in page would.
type DeviceDecision struct {
	Code     string `json:"code"`
	User     string `json:"user"`
	Password string `json:"password,omitempty"`
}

// DeviceSignIn describes a decided device code sign-in.
type DeviceSignIn struct {
	Code     string `json:"code"`
	User     string `json:"user"`
	UserID   string `json:"userObjectId"`
	TenantID string `json:"tenantId"`
	ClientID string `json:"clientId"`
	Client   string `json:"client"`
	Resource string `json:"resource"`
	Approved bool   `json:"approved"`
}

// errDeviceCodeUnknown is wrapped by every refusal about a code the cloud
// does not hold; the admin API answers it with 404.
var errDeviceCodeUnknown = errors.New("no such sign-in code")

// ApproveDevice approves the device code sign-in with user code code as
// user (UPN), as the person would on the device login page; the client's
// next poll gets tokens. A non-empty password is checked.
func (c *Cloud) ApproveDevice(code, user, password string) (DeviceSignIn, error) {
	return c.decideDevice(code, user, password, deviceApproved)
}

// DenyDevice declines the sign-in; the client's next poll gets
// authorization_declined.
func (c *Cloud) DenyDevice(code, user, password string) (DeviceSignIn, error) {
	return c.decideDevice(code, user, password, deviceDeclined)
}

func (c *Cloud) decideDevice(code, user, password string, verdict deviceState) (DeviceSignIn, error) {
	verb := map[deviceState]string{deviceApproved: "approve", deviceDeclined: "decline"}[verdict]
	code = strings.ToUpper(strings.TrimSpace(strings.ReplaceAll(code, "-", "")))
	if code == "" || user == "" {
		return DeviceSignIn{}, fmt.Errorf("%s sign-in: both the code the client printed and the user (UPN) are required", verb)
	}
	now := c.now()
	c.store.mu.Lock()
	var g *deviceGrant
	for _, d := range c.store.devices {
		if d.userCode == code {
			g = d
		}
	}
	var snap deviceGrant
	if g != nil {
		snap = *g
	}
	c.store.mu.Unlock()
	switch {
	case g == nil:
		return DeviceSignIn{}, fmt.Errorf("%s sign-in %s: %w: check the code the client printed (AADSTS70018: Invalid verification code); codes work once and expire after %d minutes",
			verb, code, errDeviceCodeUnknown, int(deviceCodeLifetime.Minutes()))
	case !now.Before(snap.expires):
		return DeviceSignIn{}, fmt.Errorf("%s sign-in %s: the code expired at %s (AADSTS70019: Verification code expired); start the sign-in again for a new code",
			verb, code, snap.expires.UTC().Format("15:04:05 MST"))
	case snap.state != devicePending:
		return DeviceSignIn{}, fmt.Errorf("%s sign-in %s: it was already %s; start the sign-in again for a new code", verb, code,
			map[deviceState]string{deviceApproved: "approved", deviceDeclined: "declined"}[snap.state])
	}
	u, aerr := c.checkUser(snap.tenantID, user, password, password != "")
	if aerr != nil {
		return DeviceSignIn{}, fmt.Errorf("%s sign-in %s as %s: %s", verb, code, user, personRefusal(aerr, snap.tenantID))
	}
	c.store.mu.Lock()
	if g.state != devicePending {
		c.store.mu.Unlock()
		return DeviceSignIn{}, fmt.Errorf("%s sign-in %s: it was decided meanwhile; start the sign-in again for a new code", verb, code)
	}
	g.state, g.userID = verdict, u.ObjectID
	client := c.store.clientDisplayNameLocked(snap.tenantID, snap.clientID)
	c.store.mu.Unlock()
	c.log.Info("device sign-in decided", "tenant", snap.tenantID, "client", snap.clientID, "user", u.ObjectID, "approved", verdict == deviceApproved)
	return DeviceSignIn{Code: code, User: u.UPN, UserID: u.ObjectID, TenantID: snap.tenantID, ClientID: snap.clientID, Client: client,
		Resource: snap.scope.resource, Approved: verdict == deviceApproved}, nil
}

// personRefusal turns a directory refusal into advice for the operator.
func personRefusal(e *aadError, tenant string) string {
	switch e.code {
	case 50034:
		return fmt.Sprintf("no such user in tenant %s (AADSTS50034); add the user to the world file's users of that tenant", tenant)
	case 50126:
		return "wrong password (AADSTS50126: Error validating credentials due to invalid username or password.)"
	case 50057:
		return "the user account is disabled (AADSTS50057)"
	}
	return e.Error()
}

// adminDeviceHandlers serve the device login page's two buttons:
//
//	POST /admin/deviceCodes/approve   DeviceDecision -> DeviceSignIn
//	POST /admin/deviceCodes/deny      DeviceDecision -> DeviceSignIn
func (c *Cloud) adminDeviceHandlers(mux *http.ServeMux) {
	for verb, decide := range map[string]func(string, string, string) (DeviceSignIn, error){"approve": c.ApproveDevice, "deny": c.DenyDevice} {
		mux.HandleFunc("POST /admin/deviceCodes/"+verb, func(w http.ResponseWriter, r *http.Request) {
			var d DeviceDecision
			if !decodeAdmin(w, r, &d) {
				return
			}
			s, err := decide(d.Code, d.User, d.Password)
			switch {
			case errors.Is(err, errDeviceCodeUnknown):
				writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			case err != nil:
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			default:
				writeJSON(w, http.StatusOK, s)
			}
		})
	}
}

package cloud

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Device code flow timings, as Azure AD issues them.
const (
	deviceCodeLifetime = 15 * time.Minute
	devicePollInterval = 5 * time.Second
	// devicePollMinGap is the shortest gap between two polls that is not
	// answered slow_down. MSAL polls after 50 ms and then backs off, so a
	// client following the interval never sees slow_down.
	devicePollMinGap = time.Second
	// deviceVerificationURI is where Azure AD sends people; in the embedded
	// cloud `podid cloud device approve` stands in for that page.
	deviceVerificationURI = "https://microsoft.com/devicelogin"
	// userCodeAlphabet leaves out letters and digits people confuse.
	userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	userCodeLength   = 9
)

// deviceState is where a device code stands.
type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDeclined
)

// deviceGrant is one device code sign-in, kept in memory until redeemed
// or well past expiry.
type deviceGrant struct {
	deviceCode, userCode string
	tenantID, clientID   string
	scope                delegatedScope
	issued, expires      time.Time
	lastPoll             time.Time
	state                deviceState
	// userID is the object ID of the person who approved or declined.
	userID string
}

// devicePoll is the outcome of one poll of the token endpoint.
type devicePoll int

const (
	pollIssue devicePoll = iota
	pollRefuse
)

// decideDevicePoll is the pure decision for a poll of g at now: issue
// tokens, or refuse with authorization_pending, slow_down,
// authorization_declined or expired_token.
func decideDevicePoll(g deviceGrant, now time.Time) (devicePoll, *aadError) {
	switch {
	case !now.Before(g.expires):
		return pollRefuse, errDeviceCodeExpired()
	case g.state == deviceDeclined:
		return pollRefuse, errDeviceDeclined()
	case g.state == deviceApproved:
		return pollIssue, nil
	case !g.lastPoll.IsZero() && now.Sub(g.lastPoll) < devicePollMinGap:
		return pollRefuse, errSlowDown(devicePollInterval)
	default:
		return pollRefuse, errAuthorizationPending()
	}
}

func randomUserCode() string {
	b := make([]byte, userCodeLength)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b)
}

func randomDeviceCode() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return "DAQABIQEAAAD" + base64.RawURLEncoding.EncodeToString(b)
}

// deviceMessage is the text clients print: Azure AD's sentence, then how
// to approve the sign-in in the embedded cloud.
func deviceMessage(userCode string) string {
	return "To sign in, use a web browser to open the page " + deviceVerificationURI + " and enter the code " + userCode +
		" to authenticate. In podid's embedded cloud, run: podid cloud device approve --user <your UPN> --code " + userCode
}

// serveDeviceCode is POST /{tenant}/oauth2/v2.0/devicecode.
func (c *Cloud) serveDeviceCode(w http.ResponseWriter, r *http.Request, tenant Tenant) {
	if err := r.ParseForm(); err != nil {
		c.writeAADError(w, r, errMissingParam("client_id"))
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	if clientID == "" {
		c.refuse(w, r, tenant, "devicecode", errMissingParam("client_id"))
		return
	}
	c.store.mu.Lock()
	_, _, known := c.store.principalByClientLocked(tenant.ID, clientID)
	c.store.mu.Unlock()
	if _, ok := firstPartyPublicClient(clientID); !ok && !known {
		c.refuse(w, r, tenant, "devicecode", errAppNotFound(clientID, tenant.ID))
		return
	}
	scope, aerr := parseDelegatedScope(f.Get("scope"))
	if aerr == nil {
		aerr = c.checkDelegatedScope(tenant.ID, clientID, scope)
	}
	if aerr != nil {
		c.refuse(w, r, tenant, "devicecode", aerr)
		return
	}
	now := c.now()
	g := &deviceGrant{deviceCode: randomDeviceCode(), userCode: randomUserCode(), tenantID: tenant.ID, clientID: clientID,
		scope: scope, issued: now, expires: now.Add(deviceCodeLifetime)}
	c.store.mu.Lock()
	if c.store.devices == nil {
		c.store.devices = map[string]*deviceGrant{}
	}
	for code, old := range c.store.devices {
		if now.Sub(old.expires) > deviceCodeLifetime {
			delete(c.store.devices, code)
		}
	}
	c.store.devices[g.deviceCode] = g
	c.store.mu.Unlock()
	c.log.Info("device code issued", "tenant", tenant.ID, "client", clientID)
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code": g.userCode, "device_code": g.deviceCode, "verification_uri": deviceVerificationURI,
		"expires_in": int(deviceCodeLifetime.Seconds()), "interval": int(devicePollInterval.Seconds()), "message": deviceMessage(g.userCode),
	})
}

// serveDeviceCodeGrant is one poll of the token endpoint with a device code.
func (c *Cloud) serveDeviceCodeGrant(w http.ResponseWriter, r *http.Request, tenant Tenant, f url.Values) {
	const grant = "device_code"
	if aerr := c.checkPersonClient(tenant.ID, f); aerr != nil {
		c.refuse(w, r, tenant, grant, aerr)
		return
	}
	code := f.Get("device_code")
	if code == "" {
		c.refuse(w, r, tenant, grant, errMissingParam("device_code"))
		return
	}
	now := c.now()
	c.store.mu.Lock()
	g, ok := c.store.devices[code]
	var snap deviceGrant
	if ok {
		snap = *g
	}
	ok = ok && strings.EqualFold(snap.clientID, f.Get("client_id")) && snap.tenantID == tenant.ID
	decision, aerr := pollRefuse, errBadGrant()
	if ok {
		decision, aerr = decideDevicePoll(snap, now)
		g.lastPoll = now
		if decision == pollIssue {
			delete(c.store.devices, code)
		}
	}
	var user *User
	if decision == pollIssue {
		user = c.store.userByObjectLocked(snap.tenantID, snap.userID)
	}
	var u User
	if user != nil {
		u = *user
	}
	c.store.mu.Unlock()
	if decision == pollIssue && user == nil {
		decision, aerr = pollRefuse, errUserNotFound(tenant.ID)
	}
	if decision == pollRefuse {
		if aerr.kind != "authorization_pending" && aerr.kind != "slow_down" {
			c.refuse(w, r, tenant, grant, aerr)
			return
		}
		c.writeAADError(w, r, aerr)
		return
	}
	c.issuePersonTokens(w, r, personSignIn{user: u, clientID: snap.clientID, scope: snap.scope, clientInfo: f.Get("client_info") == "1"})
}

package tokens

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ObjectIDOf reads the principal's object ID from the oid claim of an Azure
// AD access token. The AzureIdentity API carries no object ID, so this is
// how the agent learns it: every token Azure AD issues to an identity names
// the identity's service principal in oid.
//
// The signature is not checked. The token is the answer of the agent's own
// upstream (IMDS or Azure AD over TLS), and the object ID only chooses among
// identities the pod may use anyway, so nothing is granted on its word.
func ObjectIDOf(accessToken string) (string, error) {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return "", errors.New("access token is not a JWT")
	}
	// Payloads are unpadded base64url; tolerate padding all the same.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", fmt.Errorf("decode access token payload: %w", err)
	}
	var claims struct {
		OID string `json:"oid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("decode access token claims: %w", err)
	}
	if claims.OID == "" {
		return "", errors.New("access token has no oid claim")
	}
	return claims.OID, nil
}

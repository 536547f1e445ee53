package acr

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token facts, as ACR issues them (Azure/acr docs/AAD-OAuth.md).
const (
	// Issuer is the iss of every ACR token.
	Issuer = "Azure Container Registry"
	// RefreshLifetime is how long an exchanged refresh token lives.
	RefreshLifetime = 3 * time.Hour
	// AccessLifetime is how long an access token lives.
	AccessLifetime = 75 * time.Minute
	// GrantRefresh and GrantAccess are the grant_type claims of the two kinds.
	GrantRefresh = "refresh_token"
	GrantAccess  = "access_token"
	// NullUsername is the username that pairs with an ACR refresh token
	// as a password (docker login, the kubelet credential provider).
	NullUsername = "00000000-0000-0000-0000-000000000000"
)

// Permissions is the refresh token's permissions claim.
type Permissions struct {
	Actions    []string `json:"actions"`
	NotActions []string `json:"notActions"`
}

// Claims are the claims of an ACR refresh or access token. Subject is the
// caller's object ID, or empty for an anonymous access token.
type Claims struct {
	jwt.RegisteredClaims
	// Audience is the login server, a single string as ACR writes it
	// (it shadows RegisteredClaims.Audience, which would be an array).
	Audience    string       `json:"aud"`
	Version     string       `json:"version"`
	GrantType   string       `json:"grant_type"`
	Tenant      string       `json:"tenant,omitempty"`
	Permissions *Permissions `json:"permissions,omitempty"`
	Roles       []string     `json:"roles"`
	Access      []Access     `json:"access,omitempty"`
}

// RefreshClaims are the claims of the refresh token /oauth2/exchange
// returns for subject (object ID) of tenant, issued at now with ID jti.
func RefreshClaims(loginServer, subject, tenant, jti string, now time.Time) Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: jti, Subject: subject, Issuer: Issuer,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(RefreshLifetime))},
		Audience: loginServer, Version: "1.0", GrantType: GrantRefresh, Tenant: tenant,
		Permissions: &Permissions{Actions: []string{"read", "write", "delete", "deleteRepository"}, NotActions: []string{}}, Roles: []string{},
	}
}

// AccessClaims are the claims of an access token granting access.
func AccessClaims(loginServer, subject, tenant, jti string, access []Access, now time.Time) Claims {
	if access == nil {
		access = []Access{}
	}
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: jti, Subject: subject, Issuer: Issuer,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(AccessLifetime))},
		Audience: loginServer, Version: "1.0", GrantType: GrantAccess, Tenant: tenant, Roles: []string{}, Access: access,
	}
}

// GetAudience lets jwt validate the single-string audience.
func (c Claims) GetAudience() (jwt.ClaimStrings, error) {
	if c.Audience == "" {
		return nil, nil
	}
	return jwt.ClaimStrings{c.Audience}, nil
}

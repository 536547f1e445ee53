package cloud

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// adminTokenFile is the file in the state folder that holds the admin API's
// bearer token. The admin API grants roles and access policies and reads
// the whole state, secrets included, so only who can read this file (0600,
// the cloud's owner) may call it; any other local process is refused.
const adminTokenFile = "admin-token"

// newAdminToken returns the configured token or a fresh random one.
func newAdminToken(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make the admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeAdminToken stores the token in dir, readable by its owner only.
func writeAdminToken(dir, token string) error {
	if err := os.WriteFile(filepath.Join(dir, adminTokenFile), []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the admin token: %w", err)
	}
	return nil
}

// AdminToken is the bearer token the admin API requires.
func (c *Cloud) AdminToken() string { return c.adminToken }

// AdminTokenPath is the file holding AdminToken, or "" without a state
// folder.
func (c *Cloud) AdminTokenPath() string {
	if c.opts.StateDir == "" {
		return ""
	}
	return filepath.Join(c.opts.StateDir, adminTokenFile)
}

// requireAdmin refuses admin requests without the admin token, saying where
// the token is.
func (c *Cloud) requireAdmin(next http.Handler) http.Handler {
	where := "the token the cloud was started with"
	if p := c.AdminTokenPath(); p != "" {
		where = "the token in " + p
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(c.adminToken)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "the admin API needs " + where + ", sent as Authorization: Bearer <token>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

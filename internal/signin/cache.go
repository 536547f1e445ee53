package signin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Cache keeps one signed-in person's tokens per authority, tenant, client
// and resource in a folder, one 0600 file each, so that kubectl's next
// call reuses the access token and renews it with the refresh token
// instead of asking for another device code.
type Cache struct {
	Dir string
}

// key names the file of one sign-in.
func (Cache) key(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.Join(parts, "|"))))
	return "podid-token-" + hex.EncodeToString(sum[:8]) + ".json"
}

// Load returns the cached tokens; ok is false when there are none.
func (c Cache) Load(parts ...string) (Token, bool, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, c.key(parts...)))
	if errors.Is(err, fs.ErrNotExist) {
		return Token{}, false, nil
	}
	if err != nil {
		return Token{}, false, fmt.Errorf("read token cache: %w", err)
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		// A damaged cache only costs a sign-in.
		return Token{}, false, nil
	}
	return t, true, nil
}

// Save writes t readable by its owner only.
func (c Cache) Save(t Token, parts ...string) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("create token cache folder: %w", err)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode token cache: %w", err)
	}
	f, err := os.CreateTemp(c.Dir, ".podid-token-*")
	if err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	// CreateTemp made it 0600; the rename keeps a reader from seeing half.
	if err := os.Rename(f.Name(), filepath.Join(c.Dir, c.key(parts...))); err != nil {
		return fmt.Errorf("write token cache: %w", err)
	}
	return nil
}

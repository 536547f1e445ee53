package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func loadState(path string) (State, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("read state %s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, false, fmt.Errorf("decode state %s: %w", path, err)
	}
	return st, true, nil
}

// cloneState deep-copies st so the caller's seed is never mutated.
func cloneState(st State) (State, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return State{}, fmt.Errorf("copy seed state: %w", err)
	}
	var out State
	if err := json.Unmarshal(b, &out); err != nil {
		return State{}, fmt.Errorf("copy seed state: %w", err)
	}
	return out, nil
}

// persistLocked writes state.json atomically; store.mu must be held.
func (c *Cloud) persistLocked() {
	if c.opts.StateDir == "" {
		return
	}
	b, err := json.MarshalIndent(c.store.st, "", "  ")
	if err != nil {
		c.log.Error("encode state", "error", err)
		return
	}
	path := filepath.Join(c.opts.StateDir, stateFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		c.log.Error("write state", "path", tmp, "error", err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		c.log.Error("rename state", "path", path, "error", err)
	}
}

// Snapshot returns a deep copy of the current state.
func (c *Cloud) Snapshot() State {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	st, _ := cloneState(c.store.st)
	return st
}

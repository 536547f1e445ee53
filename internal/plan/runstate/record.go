package runstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/podid/podid/internal/plan"
)

// ErrNoRecord says the state folder holds no record of a run.
var ErrNoRecord = errors.New("no podid up record")

// Write stores r at path atomically (write a temporary file, rename).
func Write(path string, r *plan.Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode run record: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".up-*.json")
	if err != nil {
		return fmt.Errorf("write run record: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write run record: %w", err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write run record: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write run record: %w", err)
	}
	return nil
}

// Read loads the record at path; ErrNoRecord when there is none.
func Read(path string) (*plan.Record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoRecord, filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("read run record: %w", err)
	}
	var r plan.Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read run record %s: %w", path, err)
	}
	return &r, nil
}

// DefaultDir is ~/.podid, or "" when there is no home folder.
func DefaultDir() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".podid")
}

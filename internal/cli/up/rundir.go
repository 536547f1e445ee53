package up

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// runMarker names the file that marks a run folder as podid's. podid up
// empties the run folder at every start; it does so only when the marker
// says podid made it, so a --state-dir pointed at a folder that already
// has a "run" of its own (/var, a project's root) never loses it.
const runMarker = ".podid-run"

// resetRunDir empties dir for a new run, or creates it, and marks it.
func resetRunDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read %s: %w", dir, err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, runMarker)); err != nil {
			return fmt.Errorf("%s exists and podid did not create it (no %s file in it), so podid up will not empty it: "+
				"choose another --state-dir, or remove that folder yourself if it is a podid run folder from an older version", dir, runMarker)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("clean %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, runMarker), []byte("made by podid up; emptied at each start\n"), 0o600); err != nil {
		return fmt.Errorf("mark %s: %w", dir, err)
	}
	return nil
}

package up

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResetRunDir(t *testing.T) {
	cases := map[string]struct {
		setup   func(t *testing.T, dir string) // what is in the run folder before
		wantErr string                         // "" when the reset must succeed
		kept    string                         // a file that must survive, if any
	}{
		"a missing folder is created": {setup: func(*testing.T, string) {}},
		"an empty folder is used": {setup: func(t *testing.T, dir string) {
			mkdir(t, dir)
		}},
		"podid's own run folder is emptied": {setup: func(t *testing.T, dir string) {
			mkdir(t, dir)
			write(t, filepath.Join(dir, runMarker))
			write(t, filepath.Join(dir, "etcd", "member"))
		}},
		"a folder podid did not make is left alone": {setup: func(t *testing.T, dir string) {
			mkdir(t, dir)
			write(t, filepath.Join(dir, "user.pid"))
		}, wantErr: "podid did not create it", kept: "user.pid"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			tc.setup(t, dir)
			err := resetRunDir(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "--state-dir") {
					t.Fatalf("err = %v, want one containing %q and naming --state-dir", err, tc.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dir, tc.kept)); err != nil {
					t.Fatalf("%s was not kept: %v", tc.kept, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || entries[0].Name() != runMarker {
				t.Fatalf("run folder holds %v, want only the marker", entries)
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, file string) {
	t.Helper()
	mkdir(t, filepath.Dir(file))
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

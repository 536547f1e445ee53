// Command crd-legacy rewrites the CRD files that controller-gen wrote so they
// also accept aad-pod-identity's older field spellings (see internal/crdlegacy).
// Usage: go run ./hack/crd-legacy config/crd
package main

import (
	"fmt"
	"os"
	"path/filepath"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/podid/podid/internal/crdlegacy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crd-legacy DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "crd-legacy:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(raw, &crd); err != nil {
			return fmt.Errorf("decode %s: %w", f, err)
		}
		if err := crdlegacy.Patch(&crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		out, err := encode(&crd)
		if err != nil {
			return fmt.Errorf("encode %s: %w", f, err)
		}
		if err := os.WriteFile(f, append([]byte("---\n"), out...), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f, err)
		}
	}
	return nil
}

// encode writes the CRD as controller-gen does: without a status section,
// which belongs to the API server.
func encode(crd *apiextv1.CustomResourceDefinition) ([]byte, error) {
	raw, err := yaml.Marshal(crd)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	return yaml.Marshal(m)
}
